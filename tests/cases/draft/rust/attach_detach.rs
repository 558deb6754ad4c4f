// verdict: ok
// PyO3 0.26 names: Python::attach takes the GIL, py.detach releases it around the wait.
use pyo3::prelude::*;
use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        Python::attach(|py| {
            tx.send(py.None()).unwrap();
        });
    });
    Python::attach(|py| {
        let obj = py.detach(|| rx.recv().unwrap());
    });
    worker.join().unwrap();
}
