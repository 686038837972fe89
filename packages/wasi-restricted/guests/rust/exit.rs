// Leaves with an exit status (proc_exit) after writing, buffered, to stdout.
use std::io::Write;

fn main() {
    print!("before exit");
    std::io::stdout().flush().unwrap();
    std::process::exit(3);
}
