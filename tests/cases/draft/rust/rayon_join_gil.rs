// verdict: deadlock
// rayon::join under the GIL, one side taking the GIL on a pool worker.
use pyo3::prelude::*;

#[pyfunction]
fn both(py: Python<'_>) -> i64 {
    let (a, b) = rayon::join(
        || Python::with_gil(|py| 1),
        || 2,
    );
    a + b
}
