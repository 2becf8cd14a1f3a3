//! The `kdsguard` command: parse the command line, call the library, map the outcome to
//! an exit code.

fn main() {}
