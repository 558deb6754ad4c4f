// verdict: deadlock
// `let _held = STATE.lock()` keeps the guard to the end of the block (unlike `let _`),
// so taking the lock again in the same block waits forever.
use std::sync::Mutex;

static STATE: Mutex<u32> = Mutex::new(0);

fn main() {
    let _ = STATE.lock().unwrap();
    let _held = STATE.lock().unwrap();
    let _again = STATE.lock().unwrap();
    println!("never printed");
}
