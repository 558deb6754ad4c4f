// verdict: ok
// `queue()` hands its MutexGuard back to the caller; `drain` drops the first guard
// before it asks for the lock again.
use std::sync::{Mutex, MutexGuard};

static QUEUE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn queue() -> MutexGuard<'static, Vec<String>> {
    QUEUE.lock().unwrap()
}

fn drain() -> usize {
    let items = queue();
    let n = items.len();
    drop(items);
    let again = queue();
    n + again.len()
}

fn main() {
    queue().push("job".to_string());
    println!("{}", drain());
}
