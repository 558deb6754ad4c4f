// verdict: ok
// The channel carries Result<(), String>: the error is made a String before it crosses.
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
    println!("{ret:?}");
}

fn execute_loop(mut rx: UnboundedReceiver<oneshot::Sender<Result<(), String>>>) {
    Python::with_gil(|py| loop {
        while let Some(tx) = rx.blocking_recv() {
            let err = PyValueError::new_err("foo");
            let send = tx.send(Err(err.to_string()));
            println!("after send: {send:?}");
        }
    })
}
