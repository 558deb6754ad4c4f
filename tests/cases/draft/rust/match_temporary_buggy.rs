// verdict: deadlock
// The guard made in the `match` scrutinee lives to the end of the `match`: the `None`
// arm refills the queue through the same Mutex while that guard is still held.
use std::sync::Mutex;

static JOBS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn next_job() -> u32 {
    match JOBS.lock().unwrap().pop() {
        Some(job) => job,
        None => {
            JOBS.lock().unwrap().extend([1, 2, 3]);
            0
        }
    }
}

fn main() {
    println!("{}", next_job());
}
