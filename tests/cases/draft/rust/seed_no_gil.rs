// verdict: ok
// The worker never calls with_gil: making a lazy PyErr needs no GIL.
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
    loop {
        while let Some(tx) = rx.blocking_recv() {
            let err = PyValueError::new_err("foo");
            let send = tx.send(Err(err));
            println!("after send: {send:?}");
        }
    }
}
