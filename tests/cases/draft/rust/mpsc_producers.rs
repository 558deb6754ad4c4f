// verdict: ok
// Two producers with cloned senders; main drops its own sender and drains the channel,
// which closes when both producers are done.
use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel();
    for i in 0..2 {
        let tx = tx.clone();
        thread::spawn(move || {
            tx.send(i).unwrap();
        });
    }
    drop(tx);
    for v in rx.iter() {
        println!("{v}");
    }
}
