// verdict: ok
// eprintln! of a plain string takes stderr's lock only, never the GIL.
use pyo3::prelude::*;
use std::thread;

fn main() {
    let worker = thread::spawn(|| {
        Python::with_gil(|py| {
            eprintln!("worker");
        });
    });
    eprintln!("main");
    worker.join().unwrap();
}
