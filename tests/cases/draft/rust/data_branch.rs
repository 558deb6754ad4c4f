// verdict: deadlock
// Which lock is taken first depends on data: a choice. Two threads may take them in
// opposite orders.
use std::sync::Mutex;
use std::thread;

static A: Mutex<i32> = Mutex::new(0);
static B: Mutex<i32> = Mutex::new(0);

fn transfer(flip: bool) {
    if flip {
        let a = A.lock().unwrap();
        let b = B.lock().unwrap();
    } else {
        let b = B.lock().unwrap();
        let a = A.lock().unwrap();
    }
}

fn main() {
    let h = thread::spawn(|| transfer(rand::random()));
    transfer(rand::random());
    h.join().unwrap();
}
