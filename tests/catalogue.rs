//! Every rule has its four pieces (data, check, good/bad fixtures, doc page), the doc page
//! is what the data generates, every bad fixture fires its rule where its `# expect:`
//! markers say, and no good fixture fires it.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;

use common::*;
use kdsguard::rules::{catalogue, render_doc};

#[test]
fn every_rule_has_its_four_pieces_and_fresh_docs() {
    let rules = catalogue().unwrap_or_else(|e| panic!("{e}"));
    assert!(!rules.is_empty());
    let bless = std::env::var_os("KDSGUARD_BLESS").is_some();
    for r in &rules {
        let data = root().join(format!("rules/{}.toml", r.id));
        assert!(data.is_file(), "{} has no data file", r.id);
        for side in ["good", "bad"] {
            let dir = root().join(format!("testdata/rules/{}/{side}", r.id));
            let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
            assert!(n > 0, "{} has no {side} fixture in {}", r.id, dir.display());
        }
        let page = root().join(r.docs_path());
        let want = render_doc(r);
        if bless {
            std::fs::write(&page, &want).unwrap_or_else(|e| panic!("cannot write {}: {e}", page.display()));
        }
        let have = std::fs::read_to_string(&page).unwrap_or_default();
        assert_eq!(
            have,
            want,
            "{} is stale: run `KDSGUARD_BLESS=1 cargo test --test catalogue`",
            page.display()
        );
    }
}

/// (file, line) of every `expect: ID` marker under `dir`.
fn markers(dir: &Path, id: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root().join(dir))
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let rel = dir.join(e.file_name());
        for line in lines_with(&rel, &format!("expect: {id}")) {
            out.push((rel.to_string_lossy().replace('\\', "/"), line));
        }
    }
    out
}

#[test]
fn bad_fixtures_fire_at_their_markers_and_good_ones_do_not() {
    for r in catalogue().unwrap_or_else(|e| panic!("{e}")) {
        // A rule that reads the config (KDS011) has its kdsguard.toml beside its fixtures.
        let config = format!("testdata/rules/{}/kdsguard.toml", r.id);
        let with_config = |dir: &str| -> Vec<String> {
            let mut args = vec![dir.to_string()];
            if root().join(&config).is_file() {
                args.extend(["--config".to_string(), config.clone()]);
            }
            args
        };
        let bad = format!("testdata/rules/{}/bad", r.id);
        let args = with_config(&bad);
        let (report, _) = check_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let fired: Vec<(String, usize)> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["rule"] == r.id.as_str())
            .map(|f| {
                (
                    f["file"].as_str().unwrap_or_default().to_string(),
                    f["line"].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect();
        let expected = markers(Path::new(&bad), &r.id);
        assert!(!expected.is_empty(), "{bad} has no `expect: {}` marker", r.id);
        assert_eq!(fired, expected, "{} in {bad}", r.id);
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{}",
            report["errors"]
        );

        let good = format!("testdata/rules/{}/good", r.id);
        let args = with_config(&good);
        let (report, _) = check_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let fired: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["rule"] == r.id.as_str())
            .collect();
        assert!(fired.is_empty(), "{} fired on {good}: {fired:?}", r.id);
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{}",
            report["errors"]
        );
    }
}
