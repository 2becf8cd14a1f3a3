//! Terraform plan JSON (`terraform show -json`): planned values, unknowns, configuration.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kdsguard::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kdsguard-fuzz-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir.join("plan.json")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let sources = SourceMap::new();
    let _ = kdsguard::load::terraform::load_plan(path, "plan.json", &sources);
});
