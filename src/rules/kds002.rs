//! KDS002 `enable-without-slr`: a principal can `enable`, the service-linked role is
//! neither declared nor configured as existing, and the principal cannot `create-slr`.

use std::collections::BTreeMap;

use crate::capability::{Covers, TableSet};
use crate::finding::Finding;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding, granting_statement};
use crate::source::Span;

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let slr_declared = ctx.graph.slrs.iter().any(|s| s.declared());
    if slr_declared || ctx.config.slr_exists {
        return Vec::new();
    }
    let dec = ctx.decisions;
    let (Some(enable), Some(create)) = (dec.cap("enable"), dec.cap("create-slr")) else {
        return Vec::new();
    };
    let can_create = |p: usize| dec.of(p, create).iter().any(|a| dec.decision(a).outcome.can());
    let mut groups: BTreeMap<(usize, (String, u32), Span), TableSet> = BTreeMap::new();
    for a in &dec.entries {
        let d = dec.decision(a);
        if a.cap != enable || !d.outcome.can() || can_create(a.principal) {
            continue;
        }
        if let (Covers::Tables(set), Some(span)) = (&a.covers, granting_statement(ctx, a.principal, d)) {
            let e = groups
                .entry((a.principal, (ctx.sources.path(span), span.start), span))
                .or_default();
            *e = e.union(set);
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
                dec.phrase(&tables)
            ),
            "grants dynamodb:EnableKinesisStreamingDestination".to_string(),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(p);
        f.capability = Some(enable);
        out.push(f);
    }
    out
}
