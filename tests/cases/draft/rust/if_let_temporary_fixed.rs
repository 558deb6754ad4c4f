// verdict: ok
// The cached value is read in a `let` of its own: the guard is dropped at its `;`, so
// the `else` branch can take the lock.
use std::sync::Mutex;

static CACHE: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn lookup() -> String {
    let found = CACHE.lock().unwrap().last().cloned();
    if let Some(hit) = found {
        hit
    } else {
        CACHE.lock().unwrap().push("fresh".to_string());
        "fresh".to_string()
    }
}

fn main() {
    println!("{}", lookup());
}
