// verdict: deadlock
// A crossbeam bounded(1) channel filled twice before anyone receives.
use crossbeam_channel::bounded;

fn main() {
    let (s, r) = bounded(1);
    s.send(1).unwrap();
    s.send(2).unwrap();
    for v in r.iter() {
        println!("{v}");
    }
}
