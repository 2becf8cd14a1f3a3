//! `kdsguard.toml`: parsing and checking, including `[limits]`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = kdsguard::config::parse("kdsguard.toml", text);
});
