// verdict: deadlock
// The main thread blocks on a channel inside with_gil; the worker needs the GIL to send.
use pyo3::prelude::*;
use std::sync::mpsc;
use std::thread;

fn main() {
    pyo3::prepare_freethreaded_python();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let v = Python::with_gil(|py| 42);
        tx.send(v).unwrap();
    });
    Python::with_gil(|py| {
        let v = rx.recv().unwrap();
        println!("got {v}");
    });
}
