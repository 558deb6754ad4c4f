// verdict: ok
// As result_match_buggy, but the error is turned into a String under the GIL before the
// thread starts.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::thread;

fn check_size(size: i64) -> PyResult<i64> {
    if size < 1024 {
        Ok(size)
    } else {
        Err(PyValueError::new_err(format!("too large: {}", size)))
    }
}

fn main() {
    Python::with_gil(|_py| {
        let text = match check_size(4096) {
            Ok(s) => format!("size {}", s),
            Err(e) => {
                let msg = e.to_string();
                let t = thread::spawn(move || format!("failed: {}", msg));
                t.join().unwrap()
            }
        };
        println!("{text}");
    });
}
