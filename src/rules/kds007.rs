//! KDS007 `describe-incomplete`: the DynamoDB describe action is granted without
//! `kinesis:DescribeStream` and `kinesis:DescribeStreamSummary` on the stream.

use std::collections::BTreeMap;

use crate::capability::Covers;
use crate::finding::Finding;
use crate::iam::eval::Outcome;
use crate::rules::{CheckContext, Gathered, GrantAt, RuleMeta, declared_here, finding, granting_statements};

/// (principal, every statement granting the primary action, in file order): the order the
/// statements are written in changes no finding (see KDS001).
type GroupKey = (usize, Vec<GrantAt>);
/// (tables, missing actions, first resource id).
type Group = Gathered<Vec<String>>;

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    let dec = ctx.decisions;
    let Some(describe) = dec.cap("describe") else {
        return Vec::new();
    };
    let n = dec.table_count();
    for a in &dec.entries {
        let d = dec.decision(a);
        if a.cap != describe || d.outcome != Outcome::NotAllowed || !d.primary_granted() {
            continue;
        }
        let Covers::Tables(set) = &a.covers else { continue };
        let missing = d.missing();
        if !missing.iter().any(|m| m.starts_with("kinesis:DescribeStream")) {
            continue;
        }
        let grants = granting_statements(ctx, a.principal, d);
        if !grants.is_empty() {
            // The missing actions named are those of the group's first table.
            groups.entry((a.principal, grants)).or_default().add(set, n, missing);
        }
    }
    let mut out = Vec::new();
    for ((p, grants), g) in groups {
        let (tables, first) = g.into_parts();
        let (Some(missing), Some(at)) = (first, grants.first()) else {
            continue;
        };
        let span = at.span;
        let principal = &ctx.graph.principals[p];
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` is granted dynamodb:DescribeKinesisStreamingDestination on {} but not {} on the stream",
                principal.class.as_str(),
                principal.address,
                dec.phrase(&tables),
                missing.join(", ")
            ),
            "grants dynamodb:DescribeKinesisStreamingDestination".to_string(),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(p);
        f.resource = Some(super::covers_resource(ctx, &Covers::Tables(tables)));
        f.capability = Some(describe);
        out.push(f);
    }
    out
}
