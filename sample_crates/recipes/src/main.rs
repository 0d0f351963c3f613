use std::process::ExitCode;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The sum of the numbers given, written with `itoa` (the crate's one third-party dependency).
fn sum(numbers: &[String]) -> Option<String> {
    let mut total: u64 = 0;
    for number in numbers {
        total = total.checked_add(number.parse().ok()?)?;
    }
    Some(itoa::Buffer::new().format(total).to_owned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--version" => {
            println!("recipes {VERSION}");
            ExitCode::SUCCESS
        }
        [command, numbers @ ..] if command == "sum" => match sum(numbers) {
            Some(total) => {
                println!("{total}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("recipes: sum takes whole numbers that add up to at most {}", u64::MAX);
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("usage: recipes [--version | sum NUMBER...]");
            ExitCode::from(2)
        }
    }
}
