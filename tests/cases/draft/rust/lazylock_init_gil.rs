// verdict: deadlock
// A LazyLock whose initializer imports a Python module, read by a #[pyfunction] called
// from two Python threads.
use pyo3::prelude::*;
use std::sync::LazyLock;

static DECIMAL: LazyLock<Py<PyModule>> = LazyLock::new(|| {
    Python::with_gil(|py| py.import("decimal").unwrap().unbind())
});

#[pyfunction]
fn decimal_module(py: Python<'_>) -> Py<PyModule> {
    DECIMAL.clone_ref(py)
}
