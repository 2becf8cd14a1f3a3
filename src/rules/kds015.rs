//! KDS015 `access-added`: in PR mode, access a change adds or widens (read from the
//! delta the analysis computed against the base), one finding per principal, capability
//! and added table set, at the head's statement that grants it.

use std::collections::BTreeMap;

use crate::capability::Covers;
use crate::finding::{Finding, Resource};
use crate::model::{RuleId, Severity};
use crate::rules::{CheckContext, RuleMeta, declared_here, finding, granting_statement};
use crate::source::Span;

pub const ID: RuleId = RuleId::new(15);
pub const NAME: &str = "access-added";

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let Some(delta) = ctx.delta else {
        return Vec::new();
    };
    let ids = ctx.identity;
    let g = ctx.graph;
    let principals: BTreeMap<String, usize> = g
        .principals
        .iter()
        .enumerate()
        .map(|(k, p)| (ids.id(&p.id), k))
        .collect();
    let tables: BTreeMap<String, usize> = g.tables.iter().enumerate().map(|(k, t)| (ids.id(&t.id), k)).collect();
    let slrs: BTreeMap<String, usize> = g
        .slrs
        .iter()
        .enumerate()
        .map(|(k, s)| (crate::finding::Identity::slr_key(s, g), k))
        .collect();
    let mut out = Vec::new();
    for c in &delta.added {
        let Some(&p) = principals.get(&c.principal) else {
            continue;
        };
        let target = match &c.slr {
            Some(s) => slrs.get(&s.id).map(|&k| Target::Slr(k)),
            None => Some(Target::Table(c.tables.first().and_then(|t| tables.get(&t.id).copied()))),
        };
        let Some(target) = target else { continue };
        let Some((span, label, path)) = place(ctx, p, &c.capability, target) else {
            continue;
        };
        let mut message = crate::compare::added_words(c);
        if let Some(path) = path {
            message.push_str(&format!(", through other principals: {path}"));
        }
        let mut f = finding(meta, span, message, label);
        // Added access that `manages` replication is reported at the rule's level; the rest
        // (`describe`, `create-slr`) at `note`.
        if !ctx.decisions.named(&c.capability).is_some_and(|k| k.manages) {
            f.severity = Severity::Note;
        }
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(p);
        f.resource = Some(match target {
            Target::Slr(k) => Resource::Slr(k),
            Target::Table(Some(t)) => Resource::Table(t),
            Target::Table(None) => Resource::Undeclared,
        });
        f.capability = ctx.decisions.cap(&c.capability);
        out.push(f);
    }
    out
}

/// What a change's access is on: the SLR, or its smallest table (`None`: only tables the
/// inputs do not declare).
#[derive(Clone, Copy)]
enum Target {
    Slr(usize),
    Table(Option<usize>),
}

/// Where head grants the access: the granting statement of the principal's own decision,
/// else the first step of its path through other principals (with the path in words),
/// else the principal's declaration.
fn place(ctx: &CheckContext<'_>, p: usize, cap: &str, target: Target) -> Option<(Span, String, Option<String>)> {
    let dec = ctx.decisions;
    let cap_id = dec.cap(cap)?;
    let direct = match target {
        Target::Slr(s) => dec.on_slr(p, cap_id, s),
        Target::Table(t) => dec.on_table(p, cap_id, t),
    };
    if let Some(span) = direct
        .filter(|x| dec.decision(x).outcome.can())
        .and_then(|access| granting_statement(ctx, p, dec.decision(access)))
    {
        return Some((span, format!("grants {cap} here"), None));
    }
    let covers = |c: &Covers| match (c, target) {
        (Covers::Slr(k), Target::Slr(s)) => *k == s,
        (Covers::Tables(set), Target::Table(Some(t))) => set.contains(t),
        (Covers::Tables(set), Target::Table(None)) => set.undeclared,
        _ => false,
    };
    let indirect = ctx
        .reach
        .of(p)
        .iter()
        .find(|x| x.cap == cap_id && x.outcome.can() && covers(&x.covers));
    if let Some((x, span)) = indirect.and_then(|x| Some((x, crate::reach::first_step_span(ctx.reach, x)?))) {
        let path = crate::reach::path_words(ctx.graph, ctx.sources, ctx.reach, cap, x);
        return Some((span, format!("first step of a path to {cap}"), Some(path)));
    }
    let span = ctx.graph.principals[p].span?;
    Some((
        ctx.sources.first_line(span),
        format!("{cap} is added for this principal"),
        None,
    ))
}
