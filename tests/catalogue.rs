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

/// The JSON report of a rule's fixture folder, and the path prefix its findings carry for
/// the folder's files. A folder with `base/` and `head/` is a pull-request fixture (KDS015):
/// both are committed in a temporary git repository as `infra/`, and head is checked with
/// `--diff-base` against base.
fn fixture_report(dir: &str, config: Option<&str>) -> (serde_json::Value, String) {
    let base = root().join(dir).join("base");
    let head = root().join(dir).join("head");
    if !(base.is_dir() && head.is_dir()) {
        let mut args = vec![dir.to_string()];
        if let Some(c) = config {
            args.extend(["--config".to_string(), c.to_string()]);
        }
        let (report, _) = check_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        return (report, format!("{dir}/"));
    }
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run git: {e}"));
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let copy = |from: &Path| {
        let to = repo.path().join("infra");
        let _ = std::fs::remove_dir_all(&to);
        std::fs::create_dir_all(&to).unwrap_or_else(|e| panic!("{e}"));
        for e in std::fs::read_dir(from).into_iter().flatten().flatten() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap_or_else(|e| panic!("{e}"));
        }
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "test@example.com"]);
    git(&["config", "user.name", "test"]);
    git(&["config", "commit.gpgsign", "false"]);
    copy(&base);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    copy(&head);
    git(&["add", "-A"]);
    git(&["commit", "-q", "--allow-empty", "-m", "head"]);
    let mut cmd = kdsguard();
    cmd.current_dir(repo.path())
        .args(["check", "--diff-base", "HEAD~1", "--format", "json", "infra"]);
    if let Some(c) = config {
        cmd.args(["--config", &root().join(c).to_string_lossy()]);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{dir}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (report, "infra/".to_string())
}

/// The markers of a fixture folder (its `head/` for a pull-request fixture), as the
/// report names their files.
fn fixture_markers(dir: &str, id: &str, prefix: &str) -> Vec<(String, usize)> {
    let head = format!("{dir}/head");
    let read_from = if root().join(&head).is_dir() {
        head
    } else {
        dir.to_string()
    };
    markers(Path::new(&read_from), id)
        .into_iter()
        .map(|(file, line)| (file.replacen(&format!("{read_from}/"), prefix, 1), line))
        .collect()
}

#[test]
fn bad_fixtures_fire_at_their_markers_and_good_ones_do_not() {
    for r in catalogue().unwrap_or_else(|e| panic!("{e}")) {
        // A rule that reads the config (KDS011) has its kdsguard.toml beside its fixtures.
        let config = format!("testdata/rules/{}/kdsguard.toml", r.id);
        let config = root().join(&config).is_file().then_some(config);
        let bad = format!("testdata/rules/{}/bad", r.id);
        let (report, prefix) = fixture_report(&bad, config.as_deref());
        let fired: Vec<(String, usize)> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["rule"] == r.id.to_string().as_str())
            .map(|f| {
                (
                    f["file"].as_str().unwrap_or_default().to_string(),
                    f["line"].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect();
        let expected = fixture_markers(&bad, &r.id.to_string(), &prefix);
        assert!(!expected.is_empty(), "{bad} has no `expect: {}` marker", r.id);
        assert_eq!(fired, expected, "{} in {bad}", r.id);
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{}",
            report["errors"]
        );

        let good = format!("testdata/rules/{}/good", r.id);
        let (report, _) = fixture_report(&good, config.as_deref());
        let fired: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["rule"] == r.id.to_string().as_str())
            .collect();
        assert!(fired.is_empty(), "{} fired on {good}: {fired:?}", r.id);
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{}",
            report["errors"]
        );
    }
}
