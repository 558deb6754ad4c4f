// verdict: ok
// The initializer passed by name computes its value on a helper thread that never takes
// the GIL, so joining it with the GIL held cannot block for ever.
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use std::thread;

static LABEL: GILOnceCell<String> = GILOnceCell::new();

fn build_label() -> String {
    let helper = thread::spawn(|| String::from("v1"));
    helper.join().unwrap()
}

fn main() {
    Python::with_gil(|py| {
        let label = LABEL.get_or_init(py, build_label);
        println!("label: {label}");
    });
}
