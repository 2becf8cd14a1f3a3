//! CloudFormation YAML: parsing, intrinsics, conditions, SAM and `Fn::ForEach` expansion.
#![no_main]

use kdsguard::load::LoadOptions;
use kdsguard::load::cloudformation::load_template;
use kdsguard::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = SourceMap::new();
    let id = sources.add("fuzz.yaml", std::sync::Arc::from(text));
    let _ = load_template("fuzz.yaml", None, id, text, &LoadOptions::default(), &sources);
});
