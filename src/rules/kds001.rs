//! KDS001 `enable-incomplete`: the DynamoDB action of `enable` is granted, another
//! requirement is not, so enabling fails at run time.

use std::collections::BTreeMap;

use crate::capability::{CapDecision, Covers};
use crate::finding::Finding;
use crate::iam::eval::Outcome;
use crate::rules::{CheckContext, Gathered, GrantAt, RuleMeta, finding, granting_statements};

/// (principal, every statement granting the primary action, in file order).
type GroupKey = (usize, Vec<GrantAt>);

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    // One finding per (principal, granting statements): a statement granting on `*`
    // covers many tables, and saying so once is enough. The group is keyed by the whole set
    // of granting statements, so the order statements are written in changes no finding.
    let mut groups: BTreeMap<GroupKey, Gathered<&CapDecision>> = BTreeMap::new();
    let n = ctx.decisions.table_count();
    let Some(enable) = ctx.decisions.cap("enable") else {
        return Vec::new();
    };
    for a in &ctx.decisions.entries {
        let d = ctx.decisions.decision(a);
        if a.cap != enable || d.outcome != Outcome::NotAllowed || !d.primary_granted() {
            continue;
        }
        let Covers::Tables(set) = &a.covers else { continue };
        let grants = granting_statements(ctx, a.principal, d);
        if grants.is_empty() {
            continue;
        }
        let key = (a.principal, grants);
        // The decision named is that of the group's first table.
        groups.entry(key).or_default().add(set, n, d);
    }
    let mut out = Vec::new();
    for ((p, grants), g) in groups {
        let (tables, first) = g.into_parts();
        let (Some(first), Some(at)) = (first, grants.first()) else {
            continue;
        };
        let span = at.span;
        let principal = &ctx.graph.principals[p];
        let missing = first.missing();
        let covers = Covers::Tables(tables);
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` is granted dynamodb:EnableKinesisStreamingDestination on {} but not {}: enabling replication will fail",
                principal.class.as_str(),
                principal.address,
                super::covers_name(ctx, &covers),
                missing.join(", ")
            ),
            "grants dynamodb:EnableKinesisStreamingDestination".to_string(),
        );
        if missing.iter().any(|m| m == "kinesis:DescribeStream") {
            f.help.push_str(
                " (kinesis:DescribeStream is required by AWS's current documentation; older copies of the page omit it.)",
            );
        }
        f.labels.extend(super::declared_here(ctx, p));
        f.principal = Some(p);
        f.resource = Some(super::covers_resource(ctx, &covers));
        f.capability = Some(enable);
        out.push(f);
    }
    out
}
