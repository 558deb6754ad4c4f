// verdict: deadlock
// A thread's closure calls a crate function inside a method chain (`greeting().len()`);
// that function takes the GIL, and the caller joins the thread holding it.
use pyo3::prelude::*;
use std::thread;

fn greeting() -> String {
    Python::with_gil(|_py| String::from("hello"))
}

fn main() {
    Python::with_gil(|_py| {
        let worker = thread::spawn(|| greeting().len() + 1);
        let n = worker.join().unwrap();
        println!("{n}");
    });
}
