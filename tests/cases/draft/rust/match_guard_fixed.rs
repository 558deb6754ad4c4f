// verdict: ok
// The value is copied out of the guard, which is dropped before the GIL is taken.
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
    let count = match COUNTER.lock() {
        Ok(guard) => *guard,
        Err(_) => 0,
    };
    Python::with_gil(|_py| println!("count: {}", count));
    bumper.join().unwrap();
}
