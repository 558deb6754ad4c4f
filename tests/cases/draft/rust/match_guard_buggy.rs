// verdict: deadlock
// The guard bound by `Ok(guard)` keeps the mutex locked through the arm, which waits
// for the GIL; a thread holding the GIL waits for that mutex.
use pyo3::prelude::*;
use std::sync::Mutex;
use std::thread;

static COUNTER: Mutex<i64> = Mutex::new(0);

fn main() {
    let bumper = thread::spawn(|| {
        Python::with_gil(|_py| {
            let mut n = COUNTER.lock().unwrap();
            *n += 1;
        });
    });
    match COUNTER.lock() {
        Ok(guard) => {
            Python::with_gil(|_py| println!("count: {}", *guard));
        }
        Err(_) => println!("poisoned"),
    }
    bumper.join().unwrap();
}
