// verdict: ok
// As block_on_oneshot_buggy, but block_on runs with the GIL released.
use pyo3::prelude::*;
use tokio::sync::oneshot;

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    Python::with_gil(|py| {
        let (tx, rx) = oneshot::channel();
        rt.spawn_blocking(move || {
            let v = Python::with_gil(|_py| 7);
            tx.send(v).unwrap();
        });
        let got = py.allow_threads(|| rt.block_on(rx).unwrap());
        println!("{got}");
    });
}
