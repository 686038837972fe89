// Panics: with panic=abort (the wasm32-wasi default) std prints the message to stderr and
// the module traps (`unreachable`); no exit status.
fn main() {
    println!("before panic");
    let v: Vec<u32> = Vec::new();
    let i = std::env::args().count() + 5;
    println!("{}", v[i]);
}
