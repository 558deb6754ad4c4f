// verdict: deadlock
// A once-cell's initializer is a function of the crate passed by name; it runs with the
// GIL held and joins a thread that needs the GIL.
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use std::thread;

static LABEL: GILOnceCell<String> = GILOnceCell::new();

fn build_label() -> String {
    let helper = thread::spawn(|| Python::with_gil(|py| py.version().to_string()));
    helper.join().unwrap()
}

fn main() {
    Python::with_gil(|py| {
        let label = LABEL.get_or_init(py, build_label);
        println!("label: {label}");
    });
}
