// verdict: ok
// The fix: block_on with the GIL released.
use once_cell::sync::Lazy;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RT: Lazy<Runtime> = Lazy::new(|| Runtime::new().unwrap());

#[pyfunction]
fn fetch(py: Python<'_>, url: String) -> PyResult<u16> {
    let handle = RT.spawn(async move {
        Python::with_gil(|py| {
            let _ = py.None();
        });
        200
    });
    let status = py.allow_threads(|| RT.block_on(handle).unwrap());
    Ok(status)
}
