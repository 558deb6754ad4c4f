// verdict: deadlock
// sync_channel(0) is a rendezvous: the send waits for a receiver that never comes.
use std::sync::mpsc;

fn main() {
    let (tx, rx) = mpsc::sync_channel(0);
    tx.send(1).unwrap();
    let v = rx.recv().unwrap();
    println!("{v}");
}
