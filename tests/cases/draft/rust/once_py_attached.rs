// verdict: ok
// PyO3's OnceExt::call_once_py_attached: the second caller waits for the initializer
// detached from Python, so the initializer can take the GIL back.
use pyo3::prelude::*;
use pyo3::sync::OnceExt;
use std::sync::Once;

static INIT: Once = Once::new();

#[pyfunction]
fn setup(py: Python<'_>) {
    INIT.call_once_py_attached(py, || {
        let module = py.import("json").unwrap();
    });
}
