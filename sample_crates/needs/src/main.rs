//! A small client of the system's files: the CA certificates (through rustls-native-certs, which
//! looks where openssl-probe says) and the time-zone database (through jiff).
use std::process::ExitCode;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn usage() -> String {
    "usage: needs [--version | roots | tz ZONE]".to_string()
}

fn roots() -> ExitCode {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        eprintln!("error: {error}");
    }
    if found.certs.is_empty() {
        eprintln!("no CA certificates found");
        return ExitCode::FAILURE;
    }
    println!("{} CA certificates", found.certs.len());
    ExitCode::SUCCESS
}

fn tz(zone: &str) -> ExitCode {
    match jiff::tz::TimeZone::get(zone) {
        Ok(found) => {
            let now = jiff::Timestamp::now().to_zoned(found);
            println!("{zone}: offset {}", now.offset());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("time zone {zone} not found: {error}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--version" => {
            println!("needs {VERSION}");
            ExitCode::SUCCESS
        }
        [command] if command == "roots" => roots(),
        [command, zone] if command == "tz" => tz(zone),
        _ => {
            eprintln!("{}", usage());
            ExitCode::from(2)
        }
    }
}
