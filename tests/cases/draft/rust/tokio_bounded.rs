// verdict: deadlock
// A tokio mpsc::channel(1) filled twice by main, which receives only afterwards.
use tokio::sync::mpsc;

#[tokio::main]
async fn main() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    while let Some(v) = rx.recv().await {
        println!("{v}");
    }
}
