// verdict: deadlock
// No `fn main`: the #[pyfunction]s are the entry points, and `flush` reaches the plain
// helper `write_out`, which holds BUFFER while it waits for the GIL; `append` holds the
// GIL (as every #[pyfunction] does) while it waits for BUFFER.
use pyo3::prelude::*;
use std::sync::Mutex;

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn write_out() {
    let buffer = BUFFER.lock().unwrap();
    Python::with_gil(|_py| {
        println!("{} bytes", buffer.len());
    });
}

#[pyfunction]
fn flush(py: Python<'_>) {
    py.allow_threads(|| write_out());
}

#[pyfunction]
fn append(_py: Python<'_>, byte: u8) {
    BUFFER.lock().unwrap().push(byte);
}

#[pymodule]
fn buffer(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(flush, m)?)?;
    m.add_function(wrap_pyfunction!(append, m)?)?;
    Ok(())
}
