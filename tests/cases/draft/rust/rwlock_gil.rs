// verdict: deadlock
// A writer waits for the RwLock holding the GIL while a reader holds it and needs the GIL.
use pyo3::prelude::*;
use std::sync::{Arc, RwLock};
use std::thread;

fn main() {
    let table = Arc::new(RwLock::new(0));
    let reader = Arc::clone(&table);
    let h = thread::spawn(move || {
        let value = reader.read().unwrap();
        Python::with_gil(|py| {
            let _ = py.None();
        });
    });
    Python::with_gil(|py| {
        let mut value = table.write().unwrap();
        *value += 1;
    });
    h.join().unwrap();
}
