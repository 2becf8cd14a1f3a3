//! KDS011 `access-guardrail`: an access expectation declared in the config (only these
//! principals may have this capability on these tables) is violated.

use crate::capability::{Covers, TableSet};
use crate::finding::Finding;
use crate::paths::glob_matches;
use crate::rules::{CheckContext, RuleMeta, covers_name, covers_resource, declared_here, finding, granting_statement};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let g = ctx.graph;
    let mut out = Vec::new();
    let dec = ctx.decisions;
    for rail in &ctx.config.guardrails {
        // The config resolved the guardrail's capability in the run's catalogue, which the
        // decisions follow; an id from another catalogue is skipped, never misread.
        let cap = rail.capability;
        if dec.capabilities.get(usize::from(cap.0)).is_none_or(|c| c.internal) {
            continue;
        }
        // The tables the guardrail is about, once per guardrail.
        let scope = rail.tables.as_ref().map(|glob| {
            let mut s = TableSet::only(
                (0..g.tables.len())
                    .filter(|&t| glob_matches(glob, &g.tables[t].table.name.to_string()))
                    .collect(),
            );
            s.undeclared = glob == "*";
            s
        });
        for a in dec.entries.iter().filter(|a| a.cap == cap) {
            let d = dec.decision(a);
            let Some(covers) = in_scope(ctx, &a.covers, scope.as_ref()).filter(|_| d.outcome.can()) else {
                continue;
            };
            if listed(rail, &g.principals[a.principal]) {
                continue;
            }
            let Some(span) = granting_statement(ctx, a.principal, d) else {
                continue;
            };
            let how = Held {
                span,
                path: None,
                label: format!("grants {}", dec.cap_name(cap)),
            };
            out.push(violation(meta, ctx, rail, cap, a.principal, &covers, how));
        }
        out.extend(indirect(meta, ctx, rail, cap, scope.as_ref()));
    }
    out
}

/// The part of what an entry covers that the guardrail is about (`None`: nothing).
fn in_scope(ctx: &CheckContext<'_>, covers: &Covers, scope: Option<&TableSet>) -> Option<Covers> {
    let covers = match (covers, scope) {
        (Covers::Tables(set), Some(scope)) => Covers::Tables(set.intersection(scope)),
        (other, _) => other.clone(),
    };
    let empty = matches!(&covers, Covers::Tables(set) if set.is_empty(ctx.decisions.table_count()));
    (!empty).then_some(covers)
}

/// How a principal holds the capability: where the finding points, and for an indirect
/// holder the path in words.
struct Held {
    span: crate::source::Span,
    path: Option<String>,
    label: String,
}

/// The finding for one principal that holds a capability the guardrail reserves.
fn violation(
    meta: &RuleMeta,
    ctx: &CheckContext<'_>,
    rail: &crate::settings::Guardrail,
    cap: crate::capability::CapId,
    principal: usize,
    covers: &Covers,
    how: Held,
) -> Finding {
    let p = &ctx.graph.principals[principal];
    let who = if rail.only.is_empty() {
        "nobody".to_string()
    } else {
        rail.only.join(", ")
    };
    let through = how
        .path
        .map(|path| format!(" through other principals ({path})"))
        .unwrap_or_default();
    let mut f = finding(
        meta,
        how.span,
        format!(
            "{} `{}` can {} on {}{through}, but the guardrail at {} allows only {who}{}",
            p.class.as_str(),
            p.address,
            ctx.decisions.cap_name(cap),
            covers_name(ctx, covers),
            rail.origin,
            rail.description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        how.label,
    );
    f.labels.extend(declared_here(ctx, principal));
    f.principal = Some(principal);
    f.resource = Some(covers_resource(ctx, covers));
    f.capability = Some(cap);
    f
}

/// Whether a guardrail's `only` list names the principal.
fn listed(rail: &crate::settings::Guardrail, p: &crate::graph::PrincipalNode) -> bool {
    rail.only.iter().any(|glob| p.matches_glob(glob))
}

/// Indirect holders break a guardrail as direct ones do: at the path's first step.
fn indirect(
    meta: &RuleMeta,
    ctx: &CheckContext<'_>,
    rail: &crate::settings::Guardrail,
    cap: crate::capability::CapId,
    scope: Option<&TableSet>,
) -> Vec<Finding> {
    let g = ctx.graph;
    let mut out = Vec::new();
    for x in ctx.reach.indirect.iter().filter(|x| x.cap == cap && x.outcome.can()) {
        let Some(covers) = in_scope(ctx, &x.covers, scope) else {
            continue;
        };
        let p = &g.principals[x.principal];
        if listed(rail, p) {
            continue;
        }
        let Some(span) = crate::reach::first_step_span(ctx.reach, x).or(p.span) else {
            continue;
        };
        let how = Held {
            span,
            path: Some(crate::reach::path_words(
                g,
                ctx.sources,
                ctx.reach,
                ctx.decisions.cap_name(cap),
                x,
            )),
            label: format!("first step of a path to {}", ctx.decisions.cap_name(cap)),
        };
        out.push(violation(meta, ctx, rail, cap, x.principal, &covers, how));
    }
    out
}
