// verdict: ok
// thread::scope joins its threads at the end of the scope.
use std::sync::Mutex;
use std::thread;

fn main() {
    let total = Mutex::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            *total.lock().unwrap() += 1;
        });
        s.spawn(|| {
            *total.lock().unwrap() += 2;
        });
    });
    println!("done");
}
