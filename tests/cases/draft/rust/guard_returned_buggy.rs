// verdict: deadlock
// `queue()` hands its MutexGuard back to the caller, who keeps it in `q` while `drain`
// calls `queue()` again: the same thread waits for the lock it holds.
use std::sync::{Mutex, MutexGuard};

static QUEUE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn queue() -> MutexGuard<'static, Vec<String>> {
    QUEUE.lock().unwrap()
}

fn drain() -> usize {
    let items = queue();
    let again = queue();
    items.len() + again.len()
}

fn main() {
    queue().push("job".to_string());
    println!("{}", drain());
}
