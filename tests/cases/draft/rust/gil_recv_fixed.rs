// verdict: ok
// The fix: release the GIL while waiting on the channel (py.allow_threads).
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
        let v = py.allow_threads(|| rx.recv().unwrap());
        println!("got {v}");
    });
}
