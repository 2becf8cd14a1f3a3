//! No panics on input: random text and random damage to real templates never crash a
//! loader, and a file that cannot be read as a template is an error with a position.
#![allow(clippy::panic)] // a test fails by panicking

use std::sync::Arc;

use kdsguard::load::{LoadOptions, cloudformation, json, load_paths};
use kdsguard::source::{FileId, SourceMap};
use proptest::prelude::*;

/// Damages `text` at a few byte positions: deletes, duplicates or replaces a slice.
fn damage(text: &str, cuts: &[(usize, usize, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, len, kind) in cuts {
        if bytes.is_empty() {
            break;
        }
        let at = at % bytes.len();
        let end = (at + len % 16).min(bytes.len());
        match kind % 3 {
            0 => {
                bytes.drain(at..end);
            }
            1 => {
                let slice = bytes[at..end].to_vec();
                bytes.splice(at..at, slice);
            }
            _ => {
                for b in &mut bytes[at..end] {
                    *b = b"{}[]:-!\"'\n #&*|>"[(*b as usize) % 16];
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn load_cfn(text: &str) {
    let sources = SourceMap::new();
    let id = sources.add("t.yaml", Arc::from(text));
    let input = cloudformation::load_template("t.yaml", None, id, text, &LoadOptions::default(), &sources);
    for e in &input.errors {
        assert!(!e.message.is_empty());
    }
}

const CFN: &str = include_str!("../testdata/demo/cloudformation/template.yaml");
const TF: &str = include_str!("../testdata/demo/terraform/iam.tf");

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics_the_json_and_yaml_loaders(text in "\\PC{0,400}") {
        let _ = json::parse(&text, FileId::for_path("t.json"), 0);
        load_cfn(&text);
    }

    /// Any `[limits]` entry is either taken or a config error with its line; never a panic.
    #[test]
    fn random_limits_sections_are_taken_or_located_errors(
        key in proptest::sample::select(vec!["instances", "file-bytes", "nesting-depth", "eval-steps", "colour", "file_bytes"]),
        n in prop_oneof![any::<i64>(), -2i64..2000],
    ) {
        use kdsguard::limits::Limit;
        let text = format!("[limits]\n{key} = {n}\n");
        let known = Limit::ALL.into_iter().find(|l| l.key() == key);
        match kdsguard::config::parse("k.toml", &text) {
            Ok(c) => {
                let limit = known.unwrap_or_else(|| panic!("unknown key {key} accepted"));
                prop_assert_eq!(limit.value(&c.load.limits), u64::try_from(n).unwrap_or_default());
            }
            Err(e) => {
                let e = e.to_string();
                prop_assert!(e.starts_with("k.toml:2:"), "{}", e);
                prop_assert!(known.is_none() || n <= 0 || (key == "nesting-depth" && n > 1024), "{}", e);
            }
        }
    }

    /// Small tight limits make hostile-shaped Terraform stop early, never crash.
    #[test]
    fn tiny_limits_never_panic_the_terraform_loader(steps in 1u64..200, len in 1usize..64, instances in 1usize..4) {
        let sources = SourceMap::with_limits(kdsguard::limits::Limits {
            eval_steps: steps,
            template_length: len,
            instances,
            ..kdsguard::limits::Limits::default()
        });
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("main.tf"), TF).unwrap_or_else(|e| panic!("{e}"));
        let loaded = load_paths(&[dir.path().to_path_buf()], dir.path(), &LoadOptions::default(), &sources);
        for input in &loaded.inputs {
            for e in &input.errors {
                prop_assert!(e.span.is_some(), "a limit error has a position: {}", e.message);
            }
        }
    }

    #[test]
    fn damaged_cloudformation_never_panics(cuts in proptest::collection::vec((0usize..10_000, 0usize..64, 0u8..3), 1..6)) {
        load_cfn(&damage(CFN, &cuts));
    }

    #[test]
    fn damaged_terraform_never_panics(cuts in proptest::collection::vec((0usize..10_000, 0usize..64, 0u8..3), 1..6)) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("main.tf"), damage(TF, &cuts)).unwrap_or_else(|e| panic!("{e}"));
        let loaded = load_paths(&[dir.path().to_path_buf()], dir.path(), &LoadOptions::default(), &SourceMap::new());
        for input in &loaded.inputs {
            for e in &input.errors {
                prop_assert!(e.span.is_some(), "a parse error has a position: {}", e.message);
            }
        }
    }
}

#[test]
fn yaml_alias_bombs_and_deep_nesting_are_errors_not_crashes() {
    let mut bomb = String::from("AWSTemplateFormatVersion: '2010-09-09'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    bomb.push_str("Resources: {}\n");
    let sources = SourceMap::new();
    let id = sources.add("bomb.yaml", Arc::from(bomb.as_str()));
    let input = cloudformation::load_template("bomb.yaml", None, id, &bomb, &LoadOptions::default(), &sources);
    assert!(!input.errors.is_empty(), "an alias bomb must be refused");

    let deep = format!(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let id = sources.add("deep.yaml", Arc::from(deep.as_str()));
    let input = cloudformation::load_template("deep.yaml", None, id, &deep, &LoadOptions::default(), &sources);
    assert!(!input.errors.is_empty(), "nesting beyond the limit must be refused");
}
