//! KDS011 `access-guardrail`: an access expectation declared in the config (only these
//! principals may have this capability on these tables) is violated.

use crate::capability::{Covers, TableSet};
use crate::config::glob_matches;
use crate::finding::Finding;
use crate::rules::{CheckContext, RuleMeta, covers_id, covers_name, declared_here, finding, granting_statement};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let g = ctx.graph;
    let mut out = Vec::new();
    let dec = ctx.decisions;
    for rail in &ctx.config.guardrails {
        let Some(cap) = dec.cap(&rail.capability) else { continue };
        if dec.capability(cap).internal {
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
            if !d.outcome.can() {
                continue;
            }
            let covers = match (&a.covers, &scope) {
                (Covers::Tables(set), Some(scope)) => Covers::Tables(set.intersection(scope)),
                (other, _) => other.clone(),
            };
            if matches!(&covers, Covers::Tables(set) if set.is_empty(dec.table_count())) {
                continue;
            }
            let p = &g.principals[a.principal];
            if listed(rail, p) {
                continue;
            }
            let Some(span) = granting_statement(ctx, a.principal, d) else {
                continue;
            };
            let who = if rail.only.is_empty() {
                "nobody".to_string()
            } else {
                rail.only.join(", ")
            };
            let mut f = finding(
                meta,
                span,
                format!(
                    "{} `{}` can {} on {}, but the guardrail at {} allows only {who}{}",
                    p.class.as_str(),
                    p.address,
                    rail.capability,
                    covers_name(ctx, &covers),
                    rail.origin,
                    rail.description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
                ),
                format!("grants {}", rail.capability),
            );
            f.labels.extend(declared_here(ctx, a.principal));
            f.principal = Some(p.id.clone());
            f.resource = Some(covers_id(ctx, &covers));
            f.capability = Some(rail.capability.clone());
            out.push(f);
        }
        out.extend(indirect(meta, ctx, rail, cap, scope.as_ref()));
    }
    out
}

/// Whether a guardrail's `only` list names the principal.
fn listed(rail: &crate::Guardrail, p: &crate::graph::PrincipalNode) -> bool {
    rail.only.iter().any(|glob| {
        glob_matches(glob, &p.address) || glob_matches(glob, &p.name.to_string()) || glob_matches(glob, &p.id)
    })
}

/// Indirect holders break a guardrail as direct ones do: at the path's first step.
fn indirect(
    meta: &RuleMeta,
    ctx: &CheckContext<'_>,
    rail: &crate::Guardrail,
    cap: crate::capability::CapId,
    scope: Option<&TableSet>,
) -> Vec<Finding> {
    let g = ctx.graph;
    let dec = ctx.decisions;
    let mut out = Vec::new();
    for x in ctx.reach.indirect.iter().filter(|x| x.cap == cap && x.outcome.can()) {
        let covers = match (&x.covers, scope) {
            (Covers::Tables(set), Some(scope)) => Covers::Tables(set.intersection(scope)),
            (other, _) => other.clone(),
        };
        if matches!(&covers, Covers::Tables(set) if set.is_empty(dec.table_count())) {
            continue;
        }
        let p = &g.principals[x.principal];
        if listed(rail, p) {
            continue;
        }
        let Some(span) = crate::reach::first_step_span(ctx.reach, x).or(p.span) else {
            continue;
        };
        let who = if rail.only.is_empty() {
            "nobody".to_string()
        } else {
            rail.only.join(", ")
        };
        let path = crate::reach::path_words(g, ctx.sources, ctx.reach, &rail.capability, x);
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` can {} on {} through other principals ({path}), but the guardrail at {} allows only {who}{}",
                p.class.as_str(),
                p.address,
                rail.capability,
                covers_name(ctx, &covers),
                rail.origin,
                rail.description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            format!("first step of a path to {}", rail.capability),
        );
        f.labels.extend(declared_here(ctx, x.principal));
        f.principal = Some(p.id.clone());
        f.resource = Some(covers_id(ctx, &covers));
        f.capability = Some(rail.capability.clone());
        out.push(f);
    }
    out
}
