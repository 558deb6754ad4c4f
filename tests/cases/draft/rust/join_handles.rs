// verdict: ok
// Join handles kept in a Vec and joined in a loop; each thread takes the GIL briefly.
use pyo3::prelude::*;
use std::thread;

fn main() {
    let mut handles = Vec::new();
    for _ in 0..3 {
        handles.push(thread::spawn(|| {
            Python::with_gil(|py| {
                let _ = py.None();
            });
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
}
