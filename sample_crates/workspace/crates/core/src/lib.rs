//! Shared library for the sample workspace.

/// Version of the `ws-core` package.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Build a friendly greeting for `who`.
pub fn greeting(who: &str) -> String {
    let who = who.trim();
    let who = if who.is_empty() { "world" } else { who };
    format!("Hello, {who}!")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_name() {
        assert_eq!(greeting("rust"), "Hello, rust!");
    }

    #[test]
    fn empty_name_falls_back_to_world() {
        assert_eq!(greeting("  "), "Hello, world!");
    }

    #[test]
    fn version_is_set() {
        assert_eq!(VERSION, "0.1.0");
    }
}
