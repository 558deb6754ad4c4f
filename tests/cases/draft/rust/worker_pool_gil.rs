// verdict: deadlock
// A worker holds the GIL for its whole life while it waits for jobs (`while let Ok`);
// main needs the GIL to build a job before it sends it.
use pyo3::prelude::*;
use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel::<Py<PyAny>>();
    let worker = thread::spawn(move || {
        Python::with_gil(|py| {
            while let Ok(job) = rx.recv() {
                println!("{job}");
            }
        });
    });
    let job = Python::with_gil(|py| py.None());
    tx.send(job).unwrap();
    drop(tx);
    worker.join().unwrap();
}
