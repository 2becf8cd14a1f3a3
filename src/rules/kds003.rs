//! KDS003 `slr-create-unscoped`: `iam:CreateServiceLinkedRole` is allowed more broadly
//! than for the replication role (read from the two internal probe capabilities).

use crate::finding::Finding;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding, granting_statement};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (p, principal) in ctx.graph.principals.iter().enumerate() {
        let dec = ctx.decisions;
        let probe = |id: &str| {
            let cap = dec.cap(id)?;
            dec.of(p, cap).iter().map(|a| dec.decision(a)).find(|d| d.outcome.can())
        };
        let any_service = probe("create-slr-any-service");
        let other_resource = probe("create-slr-other-resource");
        let (Some(a), why) = (match (any_service, other_resource) {
            (Some(a), _) => (
                Some(a),
                "no iam:AWSServiceName condition pins kinesisreplication.dynamodb.amazonaws.com",
            ),
            (None, Some(a)) => (Some(a), "its resource covers other services' service-linked roles"),
            (None, None) => (None, ""),
        }) else {
            continue;
        };
        let Some(span) = granting_statement(ctx, p, a) else {
            continue;
        };
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` may call iam:CreateServiceLinkedRole for services other than Kinesis replication: {why}",
                principal.class.as_str(),
                principal.address
            ),
            "grants iam:CreateServiceLinkedRole".to_string(),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(p);
        f.capability = dec.cap("create-slr");
        out.push(f);
    }
    out
}
