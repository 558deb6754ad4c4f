// verdict: ok
// The worker sends Ok(()): printing it needs no GIL.
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
    Python::with_gil(|py| loop {
        while let Some(tx) = rx.blocking_recv() {
            let send = tx.send(Ok(()));
            println!("after send: {send:?}");
        }
    })
}
