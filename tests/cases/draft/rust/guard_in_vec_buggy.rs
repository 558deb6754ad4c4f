// verdict: deadlock
// Guards pushed into `held` stay locked as long as the Vec lives: the report at the end
// asks for the first lock again while `held` still holds it.
use std::sync::{Mutex, MutexGuard};

static LEFT: Mutex<u32> = Mutex::new(0);
static RIGHT: Mutex<u32> = Mutex::new(0);

fn main() {
    let mut held: Vec<MutexGuard<'static, u32>> = Vec::new();
    held.push(LEFT.lock().unwrap());
    held.push(RIGHT.lock().unwrap());
    let report = *LEFT.lock().unwrap();
    println!("{report}");
}
