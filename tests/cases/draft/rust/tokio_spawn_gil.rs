// verdict: deadlock
// A tokio task takes the GIL; main awaits its JoinHandle inside with_gil through
// futures::executor::block_on.
use pyo3::prelude::*;

#[tokio::main]
async fn main() {
    let task = tokio::spawn(async {
        Python::with_gil(|py| {
            let _ = py.None();
        });
    });
    Python::with_gil(|py| {
        futures::executor::block_on(task).unwrap();
    });
}
