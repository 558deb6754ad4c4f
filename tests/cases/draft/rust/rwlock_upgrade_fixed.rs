// verdict: ok
// The fix: drop the read guard before writing.
use std::sync::RwLock;

static CONFIG: RwLock<i32> = RwLock::new(0);

fn main() {
    let current = CONFIG.read().unwrap();
    let value = *current;
    drop(current);
    let mut next = CONFIG.write().unwrap();
    *next = value + 1;
}
