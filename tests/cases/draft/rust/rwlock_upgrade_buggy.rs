// verdict: deadlock
// Taking the write lock while still holding a read guard of the same RwLock.
use std::sync::RwLock;

static CONFIG: RwLock<i32> = RwLock::new(0);

fn main() {
    let current = CONFIG.read().unwrap();
    let mut next = CONFIG.write().unwrap();
    *next += 1;
}
