//! KDS001 `enable-incomplete`: the DynamoDB action of `enable` is granted, another
//! requirement is not, so enabling fails at run time.

use std::collections::BTreeMap;

use crate::capability::Access;
use crate::finding::Finding;
use crate::iam::eval::Outcome;
use crate::rules::{CheckContext, RuleMeta, finding};
use crate::source::Span;

/// (principal, (file, offset) for ordering, statement).
type GroupKey = (usize, (String, u32), Span);

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    // One finding per (principal, granting statement): a statement granting on `*`
    // covers many tables, and saying so once is enough.
    let mut groups: BTreeMap<GroupKey, Vec<&Access>> = BTreeMap::new();
    for a in ctx.access {
        if a.capability != "enable" || a.outcome != Outcome::NotAllowed || !a.primary_granted() {
            continue;
        }
        let Some(span) = super::granting_statement(a, ctx) else {
            continue;
        };
        let key = (a.principal, (ctx.sources.path(span), span.start), span);
        groups.entry(key).or_default().push(a);
    }
    let mut out = Vec::new();
    for ((p, _, span), accesses) in groups {
        let principal = &ctx.graph.principals[p];
        let first = accesses[0];
        let tables: Vec<String> = accesses
            .iter()
            .map(|a| super::target_name(ctx.graph, &a.target))
            .collect();
        let missing = first.missing();
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` is granted dynamodb:EnableKinesisStreamingDestination on {} but not {}: enabling replication will fail",
                principal.class.as_str(),
                principal.address,
                super::names_phrase(tables),
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
        f.principal = Some(principal.id.clone());
        f.resource = Some(super::target_id(ctx.graph, &first.target));
        f.capability = Some("enable".to_string());
        out.push(f);
    }
    out
}
