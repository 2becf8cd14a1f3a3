//! Export of the resource graph as Graphviz dot, Mermaid, or JSON.
//!
//! Nodes are the graph's principals, groups, policies, tables, streams, KMS keys and the
//! service-linked role, each with its run-unique id (`<input>#<address>`; AWS managed
//! policies by ARN); edges carry their kind. Nodes are sorted by kind then id and edges by
//! endpoints then kind, so the same input always gives the same text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use petgraph::visit::EdgeRef;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::graph::{Edge, Graph, Node};
use crate::model::PolicyKind;
use crate::source::{SourceMap, Span};

/// The graph in the chosen format.
/// The export formats of the graph.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// Graphviz.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// Nodes and edges as JSON.
    Json,
}

pub fn render(a: &Analysis, format: Format) -> Result<String, serde_json::Error> {
    let export = build(a);
    Ok(match format {
        Format::Dot => dot(&export),
        Format::Mermaid => mermaid(&export),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&export)?;
            s.push('\n');
            s
        }
    })
}

/// The export's wire type (`--format json`).
#[derive(Serialize, Debug)]
pub struct Export {
    pub nodes: Vec<NodeOut>,
    pub edges: Vec<EdgeOut>,
}

#[derive(Serialize, Debug)]
pub struct NodeOut {
    pub id: String,
    /// `role`, `user`, `external-role`, `external-user`, `group`, `policy`, `table`,
    /// `stream`, `key` or `slr`.
    pub kind: &'static str,
    pub label: String,
    /// For policies: `inline`, `managed`, `aws-managed`, `scp` or `resource`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) policy_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Serialize, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EdgeOut {
    pub from: String,
    pub to: String,
    /// `grants`, `grants-to-group`, `bounds`, `member-of`, `streams-to`, `governs`,
    /// `restricts`, `trusts` (trust policy → role), or a step of reach: `assume-role`,
    /// `change-permissions` (principal → principal it acts as).
    pub kind: &'static str,
}

/// Builds the export from the graph.
pub fn build(a: &Analysis) -> Export {
    let g = &a.graph;
    let src = &a.sources;
    let mut nodes: Vec<(u8, NodeOut)> = g
        .graph
        .node_indices()
        .filter_map(|n| g.graph.node_weight(n))
        .filter_map(|n| node_out(g, src, *n))
        .collect();
    nodes.sort_by(|(ka, a), (kb, b)| (ka, &a.id).cmp(&(kb, &b.id)));
    nodes.dedup_by(|(_, a), (_, b)| a.id == b.id);

    let mut edges: BTreeSet<EdgeOut> = BTreeSet::new();
    for e in g.graph.edge_references() {
        let (Some(from), Some(to)) = (g.graph.node_weight(e.source()), g.graph.node_weight(e.target())) else {
            continue;
        };
        if let (Some(from), Some(to)) = (node_id(g, *from), node_id(g, *to)) {
            edges.insert(EdgeOut {
                from,
                to,
                kind: edge_kind(*e.weight()),
            });
        }
    }
    // The graph links a group's policies straight to its members; show the group too.
    for p in &g.principals {
        for v in &p.via {
            let Some(group) = &v.group else { continue };
            let (Some(policy), Some(input)) = (node_id(g, Node::Policy(v.policy)), g.inputs.get(p.input)) else {
                continue;
            };
            edges.insert(EdgeOut {
                from: policy,
                to: format!("{}#{group}", input.path),
                kind: if v.boundary { "bounds" } else { "grants-to-group" },
            });
        }
    }
    // Access through other principals: one edge per step, principal to principal (each
    // hub's roles once per caller of the hub).
    for s in a
        .reach
        .steps
        .iter()
        .filter(|s| s.kind != crate::reach::StepKind::AssumeRole)
    {
        edges.insert(EdgeOut {
            from: g.principals[s.from].id.clone(),
            to: g.principals[a.reach.principal_of(s.to)].id.clone(),
            kind: s.kind.as_str(),
        });
    }
    for (from, to) in a.reach.assume_edges() {
        edges.insert(EdgeOut {
            from: g.principals[from].id.clone(),
            to: g.principals[a.reach.principal_of(to)].id.clone(),
            kind: crate::reach::StepKind::AssumeRole.as_str(),
        });
    }
    let ids: BTreeSet<&str> = nodes.iter().map(|(_, n)| n.id.as_str()).collect();
    let edges: Vec<EdgeOut> = edges
        .into_iter()
        .filter(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str()))
        .collect();
    Export {
        nodes: nodes.into_iter().map(|(_, n)| n).collect(),
        edges,
    }
}

fn edge_kind(e: Edge) -> &'static str {
    match e {
        Edge::Grants => "grants",
        Edge::Bounds => "bounds",
        Edge::Trusts => "trusts",
        Edge::MemberOf => "member-of",
        Edge::StreamsTo => "streams-to",
        Edge::Governs => "governs",
        Edge::Restricts => "restricts",
    }
}

/// The run-unique id of a node.
fn node_id(g: &Graph, n: Node) -> Option<String> {
    Some(match n {
        Node::Principal(k) => g.principals.get(k)?.id.clone(),
        Node::Group(i, k) => {
            let input = g.inputs.get(i)?;
            format!("{}#{}", input.path, input.groups.get(k)?.address)
        }
        Node::Policy(k) => {
            let p = g.policies.get(k)?;
            match p.input.and_then(|i| g.inputs.get(i)) {
                Some(input) => format!("{}#{}", input.path, p.policy.address),
                None => p.policy.address.to_string(),
            }
        }
        Node::Table(k) => g.tables.get(k)?.id.clone(),
        Node::Stream(k) => g.streams.get(k)?.id.clone(),
        Node::Key(i, k) => {
            let input = g.inputs.get(i)?;
            format!("{}#{}", input.path, input.keys.get(k)?.address)
        }
        Node::Slr(k) => g.slrs.get(k)?.id.clone(),
    })
}

/// A node with its kind's sort rank.
fn node_out(g: &Graph, src: &SourceMap, n: Node) -> Option<(u8, NodeOut)> {
    let id = node_id(g, n)?;
    let place = |span: Option<Span>| {
        let span = span.filter(|s| !s.is_builtin());
        (
            span.map(|s| src.path(s)),
            span.and_then(|s| src.start(s)).map(|lc| lc.line),
        )
    };
    let (rank, kind, label, policy_kind, span) = match n {
        Node::Principal(k) => {
            let p = g.principals.get(k)?;
            (
                0,
                p.class.as_str(),
                format!("{} {}", p.class.as_str(), p.name),
                None,
                p.span,
            )
        }
        Node::Group(i, k) => {
            let gr = g.inputs.get(i)?.groups.get(k)?;
            (1, "group", format!("group {}", gr.name), None, Some(gr.span))
        }
        Node::Policy(k) => {
            let p = g.policies.get(k)?;
            let pk = match p.kind {
                PolicyKind::Managed if p.input.is_none() => "aws-managed",
                PolicyKind::Managed => "managed",
                PolicyKind::Inline => "inline",
                PolicyKind::Scp => "scp",
                PolicyKind::Resource => "resource",
                PolicyKind::Trust => "trust",
            };
            let name = match p.input {
                None => p
                    .policy
                    .address
                    .rsplit('/')
                    .next()
                    .unwrap_or(&p.policy.address)
                    .to_string(),
                Some(_) => p.policy.address.to_string(),
            };
            (2, "policy", format!("{pk} policy {name}"), Some(pk), Some(p.span))
        }
        Node::Table(k) => {
            let t = g.tables.get(k)?;
            (3, "table", format!("table {}", t.table.name), None, Some(t.table.span))
        }
        Node::Stream(k) => {
            let s = g.streams.get(k)?;
            (
                4,
                "stream",
                format!("stream {}", s.stream.name),
                None,
                Some(s.stream.span),
            )
        }
        Node::Key(i, k) => {
            let key = g.inputs.get(i)?.keys.get(k)?;
            (5, "key", format!("KMS key {}", key.address), None, Some(key.span))
        }
        Node::Slr(k) => {
            let s = g.slrs.get(k)?;
            (
                6,
                "slr",
                format!("service-linked role {}", crate::graph::SLR_NAME),
                None,
                s.first().map(|d| d.span),
            )
        }
    };
    let (file, line) = place(span);
    Some((
        rank,
        NodeOut {
            id,
            kind,
            label,
            policy_kind,
            file,
            line,
        },
    ))
}

// ---------------------------------------------------------------------------------------
// dot

fn dot(e: &Export) -> String {
    let mut out = String::from("digraph kdsguard {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for n in &e.nodes {
        let shape = match n.kind {
            "policy" => "note",
            "group" => "folder",
            "table" => "cylinder",
            "stream" => "cds",
            "key" => "diamond",
            "slr" => "doubleoctagon",
            _ => "box",
        };
        let _ = writeln!(
            out,
            "  {} [label={}, shape={shape}];",
            dot_quote(&n.id),
            dot_quote(&format!("{}\n{}", n.label, n.id))
        );
    }
    for edge in &e.edges {
        let _ = writeln!(
            out,
            "  {} -> {} [label={}];",
            dot_quote(&edge.from),
            dot_quote(&edge.to),
            dot_quote(edge.kind)
        );
    }
    out.push_str("}\n");
    out
}

/// A dot double-quoted id: `"` and `\` escaped, newlines as `\n`.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// Mermaid

fn mermaid(e: &Export) -> String {
    let mut out = String::from("flowchart LR\n");
    // Mermaid ids allow only a few characters: each node gets `n<position>_<safe id>`.
    let ids: Vec<String> = e
        .nodes
        .iter()
        .enumerate()
        .map(|(k, n)| format!("n{k}_{}", mermaid_safe(&n.id)))
        .collect();
    let by_id: BTreeMap<&str, &str> = e
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .zip(ids.iter().map(String::as_str))
        .collect();
    let lookup = |id: &str| by_id.get(id).copied();
    for (n, mid) in e.nodes.iter().zip(&ids) {
        let label = mermaid_label(&format!("{}<br/>{}", n.label, n.id));
        let (open, close) = match n.kind {
            "policy" => ("[/", "/]"),
            "group" => ("[[", "]]"),
            "table" => ("[(", ")]"),
            "stream" => ("([", "])"),
            "key" => ("{{", "}}"),
            "slr" => ("((", "))"),
            _ => ("[", "]"),
        };
        let _ = writeln!(out, "  {mid}{open}\"{label}\"{close}");
    }
    for edge in &e.edges {
        if let (Some(from), Some(to)) = (lookup(&edge.from), lookup(&edge.to)) {
            let _ = writeln!(out, "  {from} -->|{}| {to}", edge.kind);
        }
    }
    out
}

/// An id reduced to ASCII letters, digits and `_`.
fn mermaid_safe(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Label text for a quoted Mermaid label: quotes and markup characters as entities
/// (`<br/>` kept as the line break).
fn mermaid_label(s: &str) -> String {
    const BREAK: &str = "<br/>";
    s.split(BREAK)
        .map(|part| {
            let mut out = String::with_capacity(part.len());
            for c in part.chars() {
                match c {
                    '"' => out.push_str("#quot;"),
                    '<' => out.push_str("#lt;"),
                    '>' => out.push_str("#gt;"),
                    '#' => out.push_str("#35;"),
                    '\n' | '\r' => out.push(' '),
                    c => out.push(c),
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join(BREAK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_ids_are_quoted_and_escaped() {
        assert_eq!(dot_quote("a#b"), "\"a#b\"");
        assert_eq!(dot_quote("x[\"k\"]"), "\"x[\\\"k\\\"]\"");
        assert_eq!(dot_quote("a\\b\nc"), "\"a\\\\b\\nc\"");
    }

    #[test]
    fn mermaid_ids_and_labels_are_safe() {
        assert_eq!(mermaid_safe("dir/t.yaml#Role[\"k\"]"), "dir_t_yaml_Role__k__");
        assert_eq!(mermaid_label("role \"x\"<br/>a#b"), "role #quot;x#quot;<br/>a#35;b");
    }

    #[test]
    fn an_empty_graph_exports_in_every_format() {
        let e = Export {
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        assert!(dot(&e).starts_with("digraph kdsguard {"));
        assert!(dot(&e).ends_with("}\n"));
        assert_eq!(mermaid(&e), "flowchart LR\n");
    }
}
