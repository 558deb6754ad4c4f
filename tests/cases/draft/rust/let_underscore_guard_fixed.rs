// verdict: ok
// `let _ = STATE.lock()` binds nothing, so the guard is dropped at the end of that
// statement: the lock is free again when `_held` takes it.
use std::sync::Mutex;

static STATE: Mutex<u32> = Mutex::new(0);

fn main() {
    let _ = STATE.lock().unwrap();
    let _held = STATE.lock().unwrap();
    println!("locked once");
}
