// What an ordinary Rust program does at start-up, under the default policy: std's init,
// arguments and environment, clocks, random bytes (std has no API for them: the import,
// as the getrandom crate calls it), stdin, and opening files it was never granted.
use std::io::Read;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn random_get(buf: *mut u8, len: usize) -> u16;
}

fn main() {
    println!("args={} env={} HOME={}", std::env::args().count(), std::env::vars().count(), std::env::var("HOME").unwrap_or_else(|_| "(none)".into()));
    let a = Instant::now();
    let b = Instant::now();
    let since_2020 = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() > 1_577_836_800).unwrap_or(false);
    println!("clock monotonic_ok={} realtime_after_2020={}", b >= a, since_2020);
    let mut r = [0u8; 16];
    let rc = unsafe { random_get(r.as_mut_ptr(), r.len()) };
    println!("random rc={} nonzero={}", rc, r.iter().any(|&x| x != 0));
    for path in ["/etc/passwd", "data.txt"] {
        match std::fs::File::open(path) {
            Ok(_) => println!("open {}: OPENED", path),
            Err(e) => println!("open {}: failed: {}", path, e),
        }
    }
    match std::fs::write("/tmp/x", b"x") {
        Ok(()) => println!("write /tmp/x: WROTE"),
        Err(e) => println!("write /tmp/x: failed: {}", e),
    }
    let mut input = Vec::new();
    match std::io::stdin().read_to_end(&mut input) {
        Ok(n) => println!("stdin: eof after {} bytes", n),
        Err(e) => println!("stdin: error {:?}", e.raw_os_error()),
    }
    eprintln!("to stderr");
}
