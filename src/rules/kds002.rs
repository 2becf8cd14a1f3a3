//! KDS002 `enable-without-slr`: a principal can `enable`, the service-linked role is
//! neither declared nor configured as existing, and the principal cannot `create-slr`.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding, granting_statement, target_name};
use crate::source::Span;

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let slr_declared = ctx.graph.slrs.iter().any(|s| s.input.is_some());
    if slr_declared || ctx.config.slr_exists {
        return Vec::new();
    }
    let can_create: std::collections::BTreeSet<usize> = ctx
        .access
        .iter()
        .filter(|a| a.capability == "create-slr" && a.outcome.can())
        .map(|a| a.principal)
        .collect();
    let mut groups: BTreeMap<(usize, (String, u32), Span), Vec<String>> = BTreeMap::new();
    for a in ctx.access {
        if a.capability != "enable" || !a.outcome.can() || can_create.contains(&a.principal) {
            continue;
        }
        if let Some(span) = granting_statement(a, ctx) {
            groups
                .entry((a.principal, (ctx.sources.path(span), span.start), span))
                .or_default()
                .push(target_name(ctx.graph, &a.target));
        }
    }
    let mut out = Vec::new();
    for ((p, _, span), tables) in groups {
        let principal = &ctx.graph.principals[p];
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` can enable replication on {}, but the service-linked role is not declared and it cannot create it (iam:CreateServiceLinkedRole): the first enable in the account will fail",
                principal.class.as_str(),
                principal.address,
                super::names_phrase(tables)
            ),
            "grants dynamodb:EnableKinesisStreamingDestination".to_string(),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(principal.id.clone());
        f.capability = Some("enable".to_string());
        out.push(f);
    }
    out
}
