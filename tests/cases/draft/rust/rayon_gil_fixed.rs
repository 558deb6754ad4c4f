// verdict: ok
// The fix: release the GIL around the parallel iterator.
use pyo3::prelude::*;
use rayon::prelude::*;

#[pyfunction]
fn par_apply(py: Python<'_>, f: PyObject, items: Vec<i64>) -> PyResult<Vec<i64>> {
    let out: Vec<i64> = py.allow_threads(|| {
        items
            .par_iter()
            .map(|x| Python::with_gil(|py| f.call1(py, (*x,)).unwrap().extract(py).unwrap()))
            .collect()
    });
    Ok(out)
}
