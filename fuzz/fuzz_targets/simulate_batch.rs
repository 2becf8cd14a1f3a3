//! `simulate --batch`: every line is a request with its policies, answered as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = kdsguard::simulate::run_batch(&mut &data[..], &mut out);
});
