// verdict: deadlock
// The seed with main formatting the PyErr into a String before printing it: no stdout
// lock is held then, but formatting still needs the GIL, which the worker holds for ever.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::oneshot;

#[tokio::main]
async fn main() {
    let (tx, rx) = oneshot::channel();
    let (t, r) = mpsc::unbounded_channel();
    std::thread::spawn(|| execute_loop(r));
    t.send(tx).unwrap();
    let ret = rx.await.unwrap();
    let text = format!("{ret:?}");
    println!("{text}");
}

fn execute_loop(mut rx: UnboundedReceiver<oneshot::Sender<PyResult<()>>>) {
    Python::with_gil(|py| loop {
        while let Some(tx) = rx.blocking_recv() {
            let err = PyValueError::new_err("foo");
            let send = tx.send(Err(err));
        }
    })
}
