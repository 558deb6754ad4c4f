// verdict: ok
// No `fn main`: the #[pyfunction]s are the entry points, and `flush` reaches the plain
// helper `write_out`, which copies what it needs and drops BUFFER's guard before it
// waits for the GIL.
use pyo3::prelude::*;
use std::sync::Mutex;

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn write_out() {
    let size = BUFFER.lock().unwrap().len();
    Python::with_gil(|_py| {
        println!("{size} bytes");
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
