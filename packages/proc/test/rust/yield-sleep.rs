// Yields and sleeps (sched_yield, poll_oneoff on a clock) as std does it: under ww on an
// engine without JSPI the scheduler asyncifies the module itself.
use std::time::{Duration, Instant};

fn main() {
    for _ in 0..3 { std::thread::yield_now(); }
    let a = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    std::thread::sleep(Duration::from_millis(10));
    println!("yields=3 slept_at_least_30ms={}", a.elapsed() >= Duration::from_millis(30));
}
