// verdict: deadlock
// A struct that owns a MutexGuard keeps the lock until the struct is dropped: the audit
// line locks the same Mutex while `session` is alive.
use std::sync::{Mutex, MutexGuard};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Session<'a> {
    log: MutexGuard<'a, Vec<String>>,
    user: u32,
}

fn main() {
    let session = Session { log: LOG.lock().unwrap(), user: 7 };
    LOG.lock().unwrap().push("audit".to_string());
    println!("{}", session.user);
}
