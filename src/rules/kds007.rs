//! KDS007 `describe-incomplete`: the DynamoDB describe action is granted without
//! `kinesis:DescribeStream` and `kinesis:DescribeStreamSummary` on the stream.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::iam::eval::Outcome;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding, granting_statement, target_name};
use crate::source::Span;

/// (principal, (file, offset) for ordering, statement).
type GroupKey = (usize, (String, u32), Span);
/// (tables, missing actions, first resource id).
type Group = (Vec<String>, Vec<String>, String);

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for a in ctx.access {
        if a.capability != "describe" || a.outcome != Outcome::NotAllowed || !a.primary_granted() {
            continue;
        }
        let missing = a.missing();
        if !missing.iter().any(|m| m.starts_with("kinesis:DescribeStream")) {
            continue;
        }
        if let Some(span) = granting_statement(a, ctx) {
            let e = groups
                .entry((a.principal, (ctx.sources.path(span), span.start), span))
                .or_insert_with(|| (Vec::new(), missing, super::target_id(ctx.graph, &a.target)));
            e.0.push(target_name(ctx.graph, &a.target));
        }
    }
    let mut out = Vec::new();
    for ((p, _, span), (tables, missing, resource)) in groups {
        let principal = &ctx.graph.principals[p];
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` is granted dynamodb:DescribeKinesisStreamingDestination on {} but not {} on the stream",
                principal.class.as_str(),
                principal.address,
                super::names_phrase(tables),
                missing.join(", ")
            ),
            "grants dynamodb:DescribeKinesisStreamingDestination".to_string(),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(principal.id.clone());
        f.resource = Some(resource);
        f.capability = Some("describe".to_string());
        out.push(f);
    }
    out
}
