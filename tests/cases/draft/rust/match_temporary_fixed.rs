// verdict: ok
// The job is popped in a `let` of its own, so the guard is dropped at its `;` before the
// `match` refills the queue.
use std::sync::Mutex;

static JOBS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn next_job() -> u32 {
    let popped = JOBS.lock().unwrap().pop();
    match popped {
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
