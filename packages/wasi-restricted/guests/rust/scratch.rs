// A Rust program that needs input files: reads what its spawner put in /scratch before it
// started, lists a directory, and writes, renames and removes files next to them.
use std::fs;

fn main() {
    let text = fs::read_to_string("/scratch/data/in.txt").expect("read in.txt");
    for line in text.lines() { println!("in: {}", line); }
    let words = text.split_whitespace().count();
    let mut names: Vec<String> = fs::read_dir("/scratch/data").expect("read_dir").map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    println!("ls data: {}", names.join(" "));
    let meta = fs::metadata("/scratch/data/sub/deep.bin").expect("metadata");
    println!("deep.bin size={} is_file={}", meta.len(), meta.is_file());
    fs::write("/scratch/out.txt", format!("words={}\n", words)).expect("write");
    fs::rename("/scratch/out.txt", "/scratch/result.txt").expect("rename");
    print!("result: {}", fs::read_to_string("/scratch/result.txt").expect("read back"));
    fs::create_dir_all("/scratch/made/deeper").expect("create_dir_all");
    fs::remove_file("/scratch/data/b.txt").expect("remove");
    println!("after remove: {}", fs::metadata("/scratch/data/b.txt").is_ok());
    println!("escape: {:?}", fs::read("/scratch/../etc/passwd").map(|b| b.len()).map_err(|e| e.raw_os_error()));
}
