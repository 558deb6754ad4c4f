// verdict: ok
// A call the draft does not know is assumed not to block (an assumption in the header).
use pyo3::prelude::*;

fn main() {
    let client = Client::new();
    let body = client.fetch("https://example.org");
    Python::with_gil(|py| {
        println!("fetched");
    });
}
