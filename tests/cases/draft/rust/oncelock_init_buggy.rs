// verdict: deadlock
// A OnceLock initializer imports a module (runs Python, so the GIL may pass to another
// thread), called with the GIL held from two Python threads: the second waits on the
// OnceLock holding the GIL, the first can never take the GIL back.
use pyo3::prelude::*;
use std::sync::OnceLock;

static NUMPY: OnceLock<Py<PyModule>> = OnceLock::new();

#[pyfunction]
fn numpy_version(py: Python<'_>) -> PyResult<String> {
    let module = NUMPY.get_or_init(|| py.import("numpy").unwrap().unbind());
    Ok(String::from("1.26"))
}
