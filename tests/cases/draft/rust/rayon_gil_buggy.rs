// verdict: deadlock
// par_iter called with the GIL held; its closure takes the GIL on rayon's workers.
use pyo3::prelude::*;
use rayon::prelude::*;

#[pyfunction]
fn par_apply(py: Python<'_>, f: PyObject, items: Vec<i64>) -> PyResult<Vec<i64>> {
    let out: Vec<i64> = items
        .par_iter()
        .map(|x| Python::with_gil(|py| f.call1(py, (*x,)).unwrap().extract(py).unwrap()))
        .collect();
    Ok(out)
}
