//! KDS011 `access-guardrail`: an access expectation declared in the config (only these
//! principals may have this capability on these tables) is violated.

use crate::capability::Target;
use crate::config::glob_matches;
use crate::finding::Finding;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding, granting_statement, target_id, target_name};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let g = ctx.graph;
    let mut out = Vec::new();
    for rail in &ctx.config.guardrails {
        for a in ctx
            .access
            .iter()
            .filter(|a| a.capability == rail.capability && !a.internal && a.outcome.can())
        {
            let on_table = match (&a.target, &rail.tables) {
                (_, None) => true,
                (Target::Table(t), Some(glob)) => glob_matches(glob, &g.tables[*t].table.name.to_string()),
                (Target::AllTables, Some(glob)) => glob == "*",
                (Target::Slr(_), Some(_)) => true,
            };
            if !on_table {
                continue;
            }
            let p = &g.principals[a.principal];
            let allowed = rail.only.iter().any(|glob| {
                glob_matches(glob, &p.address) || glob_matches(glob, &p.name.to_string()) || glob_matches(glob, &p.id)
            });
            if allowed {
                continue;
            }
            let Some(span) = granting_statement(a, ctx) else {
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
                    target_name(g, &a.target),
                    rail.origin,
                    rail.description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
                ),
                format!("grants {}", rail.capability),
            );
            f.labels.extend(declared_here(ctx, a.principal));
            f.principal = Some(p.id.clone());
            f.resource = Some(target_id(g, &a.target));
            f.capability = Some(rail.capability.clone());
            out.push(f);
        }
    }
    out
}
