// verdict: deadlock
// Edition 2021: the guard made in an `if let` scrutinee lives to the end of the whole
// `if let .. else`, so the `else` branch waits for the lock its own thread holds.
use std::sync::Mutex;

static CACHE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn lookup() -> String {
    if let Some(hit) = CACHE.lock().unwrap().last().cloned() {
        hit
    } else {
        CACHE.lock().unwrap().push("fresh".to_string());
        "fresh".to_string()
    }
}

fn main() {
    println!("{}", lookup());
}
