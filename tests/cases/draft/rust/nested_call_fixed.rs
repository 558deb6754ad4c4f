// verdict: ok
// As nested_call_buggy, but the join happens with the GIL released.
use pyo3::prelude::*;
use std::thread;

fn greeting() -> String {
    Python::with_gil(|_py| String::from("hello"))
}

fn main() {
    Python::with_gil(|py| {
        let worker = thread::spawn(|| greeting().len() + 1);
        let n = py.allow_threads(|| worker.join().unwrap());
        println!("{n}");
    });
}
