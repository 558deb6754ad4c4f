// verdict: deadlock
// block_on of a oneshot receiver with the GIL held; the blocking task that would send
// needs the GIL first.
use pyo3::prelude::*;
use tokio::sync::oneshot;

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    Python::with_gil(|_py| {
        let (tx, rx) = oneshot::channel();
        rt.spawn_blocking(move || {
            let v = Python::with_gil(|_py| 7);
            tx.send(v).unwrap();
        });
        let got = rt.block_on(rx).unwrap();
        println!("{got}");
    });
}
