//! Prints its version, or the time its build embedded (`stamped built`).
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("--version") => println!("stamped {}", env!("CARGO_PKG_VERSION")),
        Some("built") => println!("built {}", env!("STAMPED_AT")),
        _ => {
            eprintln!("usage: stamped --version | built");
            std::process::exit(2);
        }
    }
}
