// verdict: deadlock
// main prints a PyErr (stdout's lock, then the GIL to format it) while a worker holds the
// GIL and prints (the GIL, then stdout's lock).
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::thread;

fn main() {
    let worker = thread::spawn(|| {
        Python::with_gil(|py| {
            println!("worker holds the GIL");
        });
    });
    let err = PyValueError::new_err("bad value");
    println!("{err:?}");
    worker.join().unwrap();
}
