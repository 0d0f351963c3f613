use std::process::ExitCode;

const BIN_NAME: &str = "wsctl";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const BUILD_INFO: &str = env!("WS_BUILD_INFO");

fn usage() -> String {
    format!("usage: {BIN_NAME} [--version | info | greet [NAME]]")
}

fn info() -> String {
    // Use itoa (a tiny crates.io dependency) so the workspace has a real
    // third-party package to download and cache.
    let mut buf = itoa::Buffer::new();
    let pointer_bits = buf.format(usize::BITS);
    format!(
        "{BUILD_INFO}\nws-core={core}\npointer-width={pointer_bits}",
        core = ws_core::VERSION
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--version"] | ["-V"] => println!("{BIN_NAME} {VERSION}"),
        ["info"] => println!("{}", info()),
        [] | ["greet"] => println!("{}", ws_core::greeting("world")),
        ["greet", who] => println!("{}", ws_core::greeting(who)),
        _ => {
            eprintln!("{}", usage());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
