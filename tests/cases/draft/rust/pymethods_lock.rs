// verdict: deadlock
// Two #[pymethods] of a class share a static Mutex: one takes the Mutex then calls back
// into Python (the GIL may pass to the other thread), the other holds the GIL (it was
// called from Python) and waits for the Mutex.
use pyo3::prelude::*;
use std::sync::Mutex;

static CACHE: Mutex<Vec<i64>> = Mutex::new(Vec::new());

#[pyclass]
struct Store {}

#[pymethods]
impl Store {
    fn refresh(&self, py: Python<'_>, loader: PyObject) -> PyResult<()> {
        let mut cache = CACHE.lock().unwrap();
        let fresh = loader.call0(py)?;
        cache.push(1);
        Ok(())
    }

    fn size(&self) -> usize {
        CACHE.lock().unwrap().len()
    }
}
