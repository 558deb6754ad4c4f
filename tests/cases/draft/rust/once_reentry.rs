// verdict: deadlock
// An initializer that calls the same Once again, through a helper.
use std::sync::Once;

static INIT: Once = Once::new();

fn load() {
    INIT.call_once(|| {
        load_defaults();
    });
}

fn load_defaults() {
    INIT.call_once(|| {});
}

fn main() {
    load();
}
