// verdict: ok
// A loop over data the draft cannot see runs at most `unroll` times (an assumption).
use std::sync::mpsc;
use std::thread;

fn main() {
    let items = load_items();
    let (tx, rx) = mpsc::sync_channel(1);
    let consumer = thread::spawn(move || {
        for v in rx {
            println!("{v}");
        }
    });
    for item in items {
        tx.send(item).unwrap();
    }
    drop(tx);
    consumer.join().unwrap();
}
