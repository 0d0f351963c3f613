use std::process::ExitCode;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--version" => println!("ws-daemon {VERSION}"),
        [] => println!("ws-daemon: {}", ws_core::greeting("daemon")),
        _ => {
            eprintln!("usage: ws-daemon [--version]");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
