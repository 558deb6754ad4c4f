// verdict: deadlock
// thread::Builder spawns a thread too: it waits on a Mutex main holds while joining it.
use std::sync::Mutex;
use std::thread;

static STATE: Mutex<i32> = Mutex::new(0);

fn main() {
    let guard = STATE.lock().unwrap();
    let h = thread::Builder::new()
        .name("worker".into())
        .spawn(|| {
            *STATE.lock().unwrap() += 1;
        })
        .unwrap();
    h.join().unwrap();
}
