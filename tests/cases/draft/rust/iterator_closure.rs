// verdict: deadlock
// A closure passed to for_each sends on a rendezvous channel nobody receives from.
use std::sync::mpsc;

fn main() {
    let (tx, rx) = mpsc::sync_channel(0);
    let items = vec![1, 2, 3];
    items.iter().for_each(|x| {
        tx.send(*x).unwrap();
    });
    drop(rx);
}
