use std::io::Write;
use std::process::ExitCode;

use axum::{routing::get, Router};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

fn usage() -> String {
    format!(
        "usage: server [--version] [--listen ADDR]   (default {DEFAULT_LISTEN}, env SERVER_LISTEN)"
    )
}

enum Command {
    Version,
    Serve { listen: String },
}

fn parse_args() -> Result<Command, String> {
    let mut listen: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" | "-V" => return Ok(Command::Version),
            "--help" | "-h" => return Err(usage()),
            "--listen" => match args.next() {
                Some(addr) => listen = Some(addr),
                None => return Err(format!("--listen requires an address\n{}", usage())),
            },
            other => {
                if let Some(addr) = other.strip_prefix("--listen=") {
                    listen = Some(addr.to_string());
                } else {
                    return Err(format!("unknown argument: {other}\n{}", usage()));
                }
            }
        }
    }
    let listen = listen
        .or_else(|| {
            std::env::var("SERVER_LISTEN")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    Ok(Command::Serve { listen })
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello from server" }))
        .route("/health", get(|| async { "ok" }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };

    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    println!("shutting down");
    let _ = std::io::stdout().flush();
}

async fn serve(listen: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    println!("listening on {local}");
    std::io::stdout().flush()?;
    axum::serve(listener, app())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

fn main() -> ExitCode {
    let listen = match parse_args() {
        Ok(Command::Version) => {
            println!("server {VERSION}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Serve { listen }) => listen,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("failed to start tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(&listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server error on {listen}: {err}");
            ExitCode::FAILURE
        }
    }
}
