// verdict: ok
// PyO3's MutexExt::lock_py_attached waits for the Mutex detached from Python, so the
// worker that holds the Mutex and takes the GIL can go on.
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use std::sync::Mutex;
use std::thread;

static STATE: Mutex<u32> = Mutex::new(0);

fn main() {
    let worker = thread::spawn(|| {
        let mut state = STATE.lock().unwrap();
        Python::with_gil(|py| {
            let _ = py.None();
        });
        *state += 1;
    });
    Python::with_gil(|py| {
        let mut state = STATE.lock_py_attached(py).unwrap();
        *state += 1;
    });
    worker.join().unwrap();
}
