// verdict: deadlock
// block_on, with the GIL held, a tokio task that takes the GIL.
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
    let status = RT.block_on(handle).unwrap();
    Ok(status)
}
