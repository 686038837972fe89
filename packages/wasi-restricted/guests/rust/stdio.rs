// Rust's stdio and fd code under the default policy: buffered and locked writes to stdout
// and stderr, poll_oneoff on stdio (the raw import: std has no poll), and the errno of
// calls on fds that are not open (EBADF) vs open but outside the policy.
use std::io::{Read, Write};
use std::os::wasi::io::FromRawFd;

#[repr(C)]
struct Subscription { userdata: u64, tag: u8, _pad: [u8; 7], fd_or_clock: u64, timeout: u64, precision: u64, flags: u16, _pad2: [u8; 6] }
#[repr(C)]
#[derive(Clone, Copy)]
struct Event { userdata: u64, error: u16, kind: u8, _pad: [u8; 5], nbytes: u64, flags: u16, _pad2: [u8; 6] }

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn poll_oneoff(subs: *const Subscription, events: *mut Event, n: usize, nevents: *mut usize) -> u16;
}

const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;

fn sub(userdata: u64, tag: u8, fd: u64) -> Subscription {
    Subscription { userdata, tag, _pad: [0; 7], fd_or_clock: fd, timeout: 0, precision: 0, flags: 0, _pad2: [0; 6] }
}

fn poll(label: &str, subs: &[Subscription]) {
    let mut events = [Event { userdata: 0, error: 0, kind: 0, _pad: [0; 5], nbytes: 0, flags: 0, _pad2: [0; 6] }; 4];
    let mut n = 0usize;
    let rc = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len(), &mut n) };
    let mut seen: Vec<String> = events[..n].iter().map(|e| format!("fd{}:type{}:err{}", e.userdata, e.kind, e.error)).collect();
    seen.sort();
    println!("{}: rc={} events={}", label, rc, seen.join(","));
}

fn main() {
    let out = std::io::stdout();
    let mut lock = out.lock();
    for i in 0..3 { write!(lock, "line {} ", i).unwrap(); }
    writeln!(lock).unwrap();
    drop(lock);
    std::io::stdout().flush().unwrap();
    eprintln!("to stderr");
    poll("stdout+stderr writable", &[sub(1, FD_WRITE, 1), sub(2, FD_WRITE, 2)]);
    poll("stdin readable", &[sub(0, FD_READ, 0)]);
    let mut buf = Vec::new();
    println!("stdin read_to_end: {:?}", std::io::stdin().read_to_end(&mut buf).map_err(|e| e.raw_os_error()));
    for fd in [7, 1] {
        let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
        let r = f.read(&mut [0u8; 4]).map_err(|e| e.raw_os_error());
        println!("read fd {}: {:?}", fd, r);
        std::mem::forget(f);
    }
    let mut f = unsafe { std::fs::File::from_raw_fd(9) };
    println!("write fd 9: {:?}", f.write(b"x").map_err(|e| e.raw_os_error()));
    std::mem::forget(f);
}
