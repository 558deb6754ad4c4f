// verdict: ok
// A worker loop that matches on recv(): Ok handles a job, Err (all senders gone) ends.
use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel::<i32>();
    let worker = thread::spawn(move || loop {
        match rx.recv() {
            Ok(job) => println!("{job}"),
            Err(_) => break,
        }
    });
    tx.send(1).unwrap();
    drop(tx);
    worker.join().unwrap();
}
