// verdict: deadlock
// A spawn_blocking closure needs the GIL; the caller awaits it while holding the GIL
// through Handle::block_on.
use pyo3::prelude::*;
use tokio::runtime::Runtime;

fn main() {
    let rt = Runtime::new().unwrap();
    let handle = rt.spawn_blocking(|| {
        Python::with_gil(|py| {
            let _ = py.None();
        });
    });
    Python::with_gil(|py| {
        rt.block_on(handle).unwrap();
    });
}
