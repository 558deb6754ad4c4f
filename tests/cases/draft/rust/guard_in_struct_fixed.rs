// verdict: ok
// A struct that owns a MutexGuard keeps the lock until the struct is dropped: it is
// dropped before the audit line locks the same Mutex.
use std::sync::{Mutex, MutexGuard};

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Session<'a> {
    log: MutexGuard<'a, Vec<String>>,
    user: u32,
}

fn main() {
    let session = Session { log: LOG.lock().unwrap(), user: 7 };
    let user = session.user;
    drop(session);
    LOG.lock().unwrap().push("audit".to_string());
    println!("{user}");
}
