//! KDS012 `unresolved-value`: a value that decides a grant could not be resolved, so a
//! decision became `conditional`; the finding points at the value to pin.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::iam::eval::{Open, Outcome};
use crate::rules::{CheckContext, RuleMeta, finding};
use crate::source::Span;

/// ((file, offset) for ordering, the unresolved expression's span).
type Position = ((String, u32), Span);

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    // One finding per unresolved expression, naming the decisions it left open.
    let mut by_span: BTreeMap<Position, (String, indexmap::IndexSet<String>)> = BTreeMap::new();
    let dec = ctx.decisions;
    for a in dec
        .entries
        .iter()
        .filter(|a| dec.decision(a).outcome == Outcome::Conditional && !dec.capability(a.cap).internal)
    {
        for o in dec.decision(a).open() {
            let Open::Unknown { expr, span } = o else { continue };
            if span.is_builtin() {
                continue;
            }
            let p = &ctx.graph.principals[a.principal];
            let e = by_span
                .entry(((ctx.sources.path(*span), span.start), *span))
                .or_insert_with(|| (expr.clone(), indexmap::IndexSet::new()));
            let what = format!(
                "{} {} on {}",
                p.address,
                dec.cap_name(a.cap),
                super::covers_name(ctx, &a.covers)
            );
            e.1.insert(what);
        }
    }
    let mut out = Vec::new();
    for ((_, span), (expr, decisions)) in by_span {
        let shown: Vec<&String> = decisions.iter().take(3).collect();
        let more = decisions.len().saturating_sub(shown.len());
        let mut f = finding(
            meta,
            span,
            format!(
                "`{expr}` could not be resolved, so {} {} conditional{}",
                shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; "),
                if decisions.len() == 1 { "is" } else { "are" },
                if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                }
            ),
            "unresolved".to_string(),
        );
        f.resource = None;
        out.push(f);
    }
    out
}
