// The real fix: the GIL per message, and the worker prints after with_gil returns.
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

fn execute_loop(mut rx: UnboundedReceiver<oneshot::Sender<PyResult<()>>>) {
    while let Some(tx) = rx.blocking_recv() {
        let send = Python::with_gil(|py| {
            let err = PyValueError::new_err("foo");
            tx.send(Err(err))
        });
        println!("after send: {send:?}");
    }
}
