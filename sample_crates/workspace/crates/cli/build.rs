// Bakes the target triple and cargo profile into the binary as WS_BUILD_INFO.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown-target".into());
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown-profile".into());
    println!("cargo:rustc-env=WS_BUILD_INFO=target={target} profile={profile}");
    println!("cargo:rerun-if-changed=build.rs");
}
