// verdict: deadlock
// A lazy_static whose initializer imports a Python module, used by a #[pyfunction]
// from two Python threads: the second waits for the initializer holding the GIL.
use lazy_static::lazy_static;
use pyo3::prelude::*;

lazy_static! {
    static ref JSON_VERSION: String = Python::with_gil(|py| {
        let json = py.import("json").unwrap();
        String::from("2.0")
    });
}

#[pyfunction]
fn json_version(py: Python<'_>) -> String {
    JSON_VERSION.clone()
}
