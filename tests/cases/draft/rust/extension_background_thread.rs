// verdict: ok
// An extension starts a Rust background thread that waits for work for ever; Python
// exits without joining it (it is not a Python thread), so nothing hangs.
use pyo3::prelude::*;
use std::sync::mpsc;
use std::thread;

#[pyfunction]
fn start(py: Python<'_>) -> PyResult<()> {
    let (tx, rx) = mpsc::channel::<i32>();
    thread::spawn(move || {
        for job in rx {
            println!("{job}");
        }
    });
    std::mem::forget(tx);
    Ok(())
}
