//! Terraform HCL: the parser, the evaluator (expressions, functions, `count`/`for_each`,
//! `dynamic` blocks, templates) and the model built from it. The input is the module's
//! only `main.tf`, in a temporary folder that is also the analysis root.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kdsguard::load::LoadOptions;
use kdsguard::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kdsguard-fuzz-hcl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = folder();
    if std::fs::write(dir.join("main.tf"), data).is_err() {
        return;
    }
    let options = LoadOptions {
        root: Some(dir.clone()),
        ..LoadOptions::default()
    };
    let sources = SourceMap::new();
    let _ = kdsguard::load::terraform::load_module(dir, "fuzz", dir, &options, &sources);
});
