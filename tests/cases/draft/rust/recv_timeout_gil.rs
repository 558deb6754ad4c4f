// verdict: ok
// Waiting with a timeout under the GIL: the wait ends even if the sender needs the GIL.
use pyo3::prelude::*;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

fn main() {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let v = Python::with_gil(|py| 1);
        tx.send(v).unwrap();
    });
    Python::with_gil(|py| {
        let got = rx.recv_timeout(Duration::from_millis(100));
    });
}
