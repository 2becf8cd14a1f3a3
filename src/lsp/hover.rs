//! What the editor asks about a place: hover (who can do what on a table, what a principal
//! can do, which decisions a statement takes part in), go to definition (a principal's
//! granting statements), and code actions (a suppression comment for a finding).
//! Every answer is looked up in the analysis' decisions; nothing is decided again.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic, Location, NumberOrString, Position, Range, TextEdit, Url, WorkspaceEdit,
};

use crate::capability::{Access, Covers};
use crate::catalog::TargetKind;
use crate::source::Span;

use super::workspace::{Folder, SOURCE};

/// What is under the cursor: the smallest declaration or statement around it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Table(usize),
    Principal(usize),
    /// (policy, statement) of the graph.
    Statement(usize, usize),
}

/// How many names a hover spells out before "and N more".
const NAMES: usize = 3;

/// The target at a byte offset of the file at `path`.
pub(crate) fn target_at(folder: &Folder, path: &Path, offset: usize) -> Option<Target> {
    let file = folder.file(path)?;
    let g = &folder.analysis.graph;
    let inside = |s: Span| s.file == file.id && (s.start as usize) <= offset && offset <= s.end as usize;
    let mut best: Option<(u32, Target)> = None;
    let mut consider = |s: Span, t: Target| {
        if inside(s) && best.is_none_or(|(len, _)| s.end - s.start < len) {
            best = Some((s.end - s.start, t));
        }
    };
    for (k, t) in g.tables.iter().enumerate() {
        consider(t.table.span, Target::Table(k));
    }
    for (k, p) in g.principals.iter().enumerate() {
        if let Some(s) = p.span {
            consider(s, Target::Principal(k));
        }
    }
    for (k, p) in g.policies.iter().enumerate().filter(|(_, p)| p.span.file == file.id) {
        for (j, s) in p.policy.document.statements.iter().enumerate() {
            consider(s.span, Target::Statement(k, j));
        }
    }
    best.map(|(_, t)| t)
}

/// The hover text (Markdown) for a target.
pub fn hover(folder: &Folder, target: Target) -> String {
    match target {
        Target::Table(t) => table(folder, t),
        Target::Principal(p) => principal(folder, p),
        Target::Statement(policy, s) => statement(folder, policy, s),
    }
}

/// "a, b, c and 2 more".
fn names(mut items: Vec<String>) -> String {
    items.sort();
    items.dedup();
    let n = items.len();
    let mut shown: Vec<String> = items.into_iter().take(NAMES).map(|s| format!("`{s}`")).collect();
    if n > NAMES {
        shown.push(format!("{} more", n - NAMES));
    }
    shown.join(", ")
}

fn table_capabilities(folder: &Folder) -> Vec<(crate::capability::CapId, String)> {
    let dec = &folder.analysis.decisions;
    dec.capabilities
        .iter()
        .filter(|c| c.target == TargetKind::Table && !c.internal)
        .filter_map(|c| Some((dec.cap(&c.id)?, c.id.clone())))
        .collect()
}

fn table(folder: &Folder, t: usize) -> String {
    let a = &folder.analysis;
    let (g, dec) = (&a.graph, &a.decisions);
    let node = &g.tables[t];
    let mut out = format!("**table `{}`** — who can, on this table:\n\n", node.table.address);
    out.push_str("| capability | directly | through other principals |\n|---|---|---|\n");
    for (cap, id) in table_capabilities(folder) {
        let direct: Vec<String> = (0..g.principals.len())
            .filter(|&p| {
                dec.on_table(p, cap, Some(t))
                    .is_some_and(|x| dec.decision(x).outcome.can())
            })
            .map(|p| g.principals[p].address.clone())
            .collect();
        let indirect: Vec<String> = a
            .reach
            .indirect
            .iter()
            .filter(|x| x.cap == cap && x.outcome.can() && covers(&x.covers, t))
            .map(|x| g.principals[x.principal].address.clone())
            .collect();
        let cell = |v: Vec<String>| match v.len() {
            0 => "nobody".to_string(),
            n => format!("{n}: {}", names(v)),
        };
        let _ = writeln!(out, "| {id} | {} | {} |", cell(direct), cell(indirect));
    }
    out.push_str("\n`kdsguard query who-can <capability> --on ");
    out.push_str(&node.table.address);
    out.push_str("` gives the proofs.");
    out
}

fn covers(c: &Covers, t: usize) -> bool {
    matches!(c, Covers::Tables(set) if set.contains(t))
}

fn principal(folder: &Folder, p: usize) -> String {
    let a = &folder.analysis;
    let (g, dec) = (&a.graph, &a.decisions);
    let node = &g.principals[p];
    let mut out = format!("**{} `{}`** can:\n\n", node.class.as_str(), node.address);
    let mut any = false;
    for c in dec.capabilities.iter().filter(|c| !c.internal) {
        let Some(cap) = dec.cap(&c.id) else { continue };
        for x in dec.of(p, cap).iter().filter(|x| dec.decision(x).outcome.can()) {
            any = true;
            let _ = writeln!(
                out,
                "- **{}**: {} on {}",
                c.id,
                dec.decision(x).outcome.as_str(),
                on(folder, &x.covers)
            );
        }
        for x in a.reach.of(p).iter().filter(|x| x.cap == cap && x.outcome.can()) {
            any = true;
            let holder = a.reach.principal_of(x.holder);
            let how = if holder == p {
                "after changing its own permissions".to_string()
            } else {
                format!("as `{}`", g.principals[holder].address)
            };
            let _ = writeln!(
                out,
                "- **{}**: {} on {}, {how}",
                c.id,
                x.outcome.as_str(),
                on(folder, &x.covers)
            );
        }
    }
    if !any {
        out.push_str("- nothing kdsguard decides (no capability is allowed or conditional)\n");
    }
    out
}

fn on(folder: &Folder, covers: &Covers) -> String {
    match covers {
        Covers::Tables(set) => folder.analysis.decisions.phrase(set),
        Covers::Slr(_) => "the service-linked role".to_string(),
    }
}

fn statement(folder: &Folder, policy: usize, s: usize) -> String {
    let a = &folder.analysis;
    let (g, dec) = (&a.graph, &a.decisions);
    let st = &g.policies[policy].policy.document.statements[s];
    let mut by: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    for x in dec.entries.iter().filter(|x| dec.reported(x)) {
        if cites(folder, x, st.span) {
            let key = (dec.cap_name(x.cap).to_string(), dec.decision(x).outcome.as_str());
            by.entry(key)
                .or_default()
                .push(g.principals[x.principal].address.clone());
        }
    }
    let mut out = format!(
        "**policy statement** ({}{}) takes part in:\n\n",
        g.policies[policy].policy.address,
        st.sid.as_deref().map(|s| format!(", Sid `{s}`")).unwrap_or_default()
    );
    if by.is_empty() {
        out.push_str("- no reported decision\n");
    }
    for ((cap, outcome), who) in by {
        let _ = writeln!(out, "- **{cap}** {outcome} for {}: {}", who.len(), names(who));
    }
    out
}

fn cites(folder: &Folder, x: &Access, statement: Span) -> bool {
    folder
        .analysis
        .decisions
        .decision(x)
        .because()
        .iter()
        .any(|(_, b)| b.statement == statement)
}

/// The statements that grant a principal what it can do (its decisions' Allow statements).
pub fn definition(folder: &Folder, p: usize) -> Vec<Location> {
    let dec = &folder.analysis.decisions;
    let mut spans: Vec<Span> = dec
        .of_principal(p)
        .iter()
        .filter(|x| !dec.capability(x.cap).internal && dec.decision(x).outcome.can())
        .flat_map(|x| dec.decision(x).because().into_iter().map(|(_, b)| b.statement))
        .filter(|s| !s.is_builtin())
        .collect();
    spans.sort();
    spans.dedup();
    spans.into_iter().filter_map(|s| folder.location(s)).collect()
}

/// For each kdsguard finding among `diagnostics`: a quick fix inserting a suppression
/// comment (the canonical form KDS014 asks for) on the line above it, or above its block
/// where it lies in a Terraform heredoc ([`crate::load::suppression_line`]). Not offered in
/// JSON files, which have no comments.
pub(crate) fn code_actions(uri: &Url, text: &str, diagnostics: &[Diagnostic]) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for d in diagnostics.iter().filter(|d| d.source.as_deref() == Some(SOURCE)) {
        let Some(NumberOrString::String(rule)) = &d.code else {
            continue;
        };
        if !rule.starts_with("KDS") {
            continue;
        }
        let Some(line) = crate::load::suppression_line(uri.path(), text, d.range.start.line as usize) else {
            continue;
        };
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        let indent: String = text
            .lines()
            .nth(line as usize)
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let at = Position { line, character: 0 };
        let edit = TextEdit {
            range: Range { start: at, end: at },
            new_text: format!(
                "{indent}# {} {rule} reason: <why this is accepted>\n",
                crate::suppress::MARKER
            ),
        };
        out.push(CodeAction {
            title: format!("Suppress {rule} here (kdsguard:ignore with a reason)"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some([(uri.clone(), vec![edit])].into_iter().collect()),
                ..WorkspaceEdit::default()
            }),
            ..CodeAction::default()
        });
    }
    out
}
