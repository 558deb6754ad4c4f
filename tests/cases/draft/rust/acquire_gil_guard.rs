// verdict: deadlock
// The old GILGuard API: the GIL is held from Python::acquire_gil() until the guard is
// dropped; main waits on the channel holding it, the worker needs it to send.
use pyo3::prelude::*;
use std::sync::mpsc;
use std::thread;
fn main() {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let gil = Python::acquire_gil();
        let py = gil.python();
        tx.send(1).unwrap();
    });
    let gil = Python::acquire_gil();
    let v = rx.recv().unwrap();
    drop(gil);
    println!("{v}");
}
