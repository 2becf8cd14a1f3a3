//! `kdsguard graph --format dot|mermaid|json` through the binary: each format is
//! structurally sound (every edge's endpoints are declared nodes) and deterministic.
#![allow(clippy::panic)] // a failing test panics with what it saw

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

const TF: &str = "testdata/demo/terraform";
const CFN: &str = "testdata/demo/cloudformation/template.yaml";
const FIXTURE: &str = "testdata/query/template.yaml";

fn graph(format: &str, paths: &[&str]) -> String {
    let mut args = vec!["graph", "--format", format];
    args.extend_from_slice(paths);
    let r = run(&args);
    assert_eq!(r.code, 0, "graph --format {format} failed:\n{}", r.stderr);
    r.stdout
}

/// The quoted strings of a dot line, unescaped, in order.
fn dot_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next() {
                None => panic!("unterminated string in {line:?}"),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some(e) => s.push(e),
                    None => panic!("dangling escape in {line:?}"),
                },
                Some(c) => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

#[test]
fn dot_is_balanced_and_every_edge_endpoint_is_declared() {
    let text = graph("dot", &[TF, CFN, FIXTURE]);
    assert!(text.starts_with("digraph kdsguard {\n"), "{text}");
    assert!(text.ends_with("}\n"), "{text}");
    // Braces outside quoted strings nest and close.
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    for c in text.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '{' if !quoted => depth += 1,
            '}' if !quoted => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "a brace closes before it opens");
    }
    assert_eq!((depth, quoted), (0, false), "unbalanced braces or quotes");

    let mut nodes = BTreeSet::new();
    let mut edges = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.contains(" -> ") {
            let s = dot_strings(line);
            assert_eq!(s.len(), 3, "edge line {line:?}");
            edges.push((s[0].clone(), s[1].clone(), s[2].clone()));
        } else if line.starts_with('"') {
            let s = dot_strings(line);
            assert!(nodes.insert(s[0].clone()), "node {} declared twice", s[0]);
        }
    }
    for (from, to, _) in &edges {
        assert!(nodes.contains(from), "edge from undeclared {from}");
        assert!(nodes.contains(to), "edge to undeclared {to}");
    }
    assert!(nodes.contains("testdata/query/template.yaml#Alice"));
    assert!(nodes.contains("testdata/demo/terraform#aws_dynamodb_table.music"));
    assert!(nodes.contains("arn:aws:iam::aws:policy/AdministratorAccess"));
    let kinds: BTreeSet<&str> = edges.iter().map(|(_, _, k)| k.as_str()).collect();
    for k in [
        "grants",
        "grants-to-group",
        "bounds",
        "member-of",
        "streams-to",
        "restricts",
    ] {
        assert!(kinds.contains(k), "no {k} edge in {kinds:?}");
    }
    assert!(edges.contains(&(
        "testdata/query/template.yaml#Alice".to_string(),
        "testdata/query/template.yaml#ReplicationOperators".to_string(),
        "member-of".to_string()
    )));
}

#[test]
fn mermaid_is_a_flowchart_with_declared_endpoints() {
    let text = graph("mermaid", &[TF, FIXTURE]);
    assert!(text.starts_with("flowchart"), "{text}");
    let mut nodes = BTreeSet::new();
    let mut edges = 0;
    for line in text.lines().skip(1).map(str::trim) {
        if let Some((from, rest)) = line.split_once(" -->|") {
            let (_, to) = rest.split_once("| ").unwrap_or_else(|| panic!("edge {line:?}"));
            assert!(nodes.contains(from), "edge from undeclared {from}");
            assert!(nodes.contains(to), "edge to undeclared {to}");
            edges += 1;
        } else {
            let id: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(!id.is_empty(), "node line without an id: {line:?}");
            let label = &line[id.len()..];
            assert_eq!(label.matches('"').count(), 2, "label quotes escaped: {line:?}");
            assert!(nodes.insert(id), "node declared twice: {line:?}");
        }
    }
    assert!(edges > 0);
    assert!(text.contains("group replication-operators"), "{text}");
}

#[test]
fn json_has_nodes_and_edges_with_consistent_ids() {
    let text = graph("json", &[TF, CFN, FIXTURE]);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let nodes = v["nodes"].as_array().cloned().unwrap_or_default();
    let edges = v["edges"].as_array().cloned().unwrap_or_default();
    assert!(!nodes.is_empty() && !edges.is_empty());
    let ids: BTreeSet<&str> = nodes.iter().filter_map(|n| n["id"].as_str()).collect();
    assert_eq!(ids.len(), nodes.len(), "ids are unique");
    for e in &edges {
        for end in ["from", "to"] {
            let id = e[end].as_str().unwrap_or_default();
            assert!(ids.contains(id), "edge {end} {id} is not a node");
        }
    }
    let kinds: BTreeSet<&str> = nodes.iter().filter_map(|n| n["kind"].as_str()).collect();
    for k in ["role", "user", "group", "policy", "table", "stream", "slr"] {
        assert!(kinds.contains(k), "no {k} node in {kinds:?}");
    }
    let table = nodes
        .iter()
        .find(|n| n["id"] == "testdata/demo/terraform#aws_dynamodb_table.music")
        .unwrap_or_else(|| panic!("no Music table node"));
    assert_eq!(table["label"], "table Music");
    assert_eq!(table["file"], "testdata/demo/terraform/main.tf");
    assert_eq!(
        lines_with(
            std::path::Path::new("testdata/demo/terraform/main.tf"),
            "resource \"aws_dynamodb_table\" \"music\""
        ),
        [table["line"].as_u64().unwrap_or(0) as usize]
    );
}

#[test]
fn every_format_is_deterministic() {
    for format in ["dot", "mermaid", "json"] {
        assert_eq!(
            graph(format, &[TF, CFN, FIXTURE]),
            graph(format, &[FIXTURE, CFN, TF]),
            "{format}"
        );
    }
}
