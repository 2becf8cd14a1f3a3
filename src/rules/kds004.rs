//! KDS004 `slr-deletable`: a principal's `delete-slr` decision is allowed or conditional.

use crate::finding::{Finding, Label};
use crate::rules::{CheckContext, RuleMeta, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(delete) = ctx.decisions.cap("delete-slr") else {
        return out;
    };
    for a in &ctx.decisions.entries {
        let d = ctx.decisions.decision(a);
        if a.cap != delete || !d.outcome.can() {
            continue;
        }
        let principal = &ctx.graph.principals[a.principal];
        let Some(span) = super::granting(ctx, a.principal, d, |_| true) else {
            continue;
        };
        let how = if d.outcome == crate::iam::eval::Outcome::Allowed {
            "can"
        } else {
            "may be able to"
        };
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` {how} delete the service-linked role AWSServiceRoleForDynamoDBKinesisDataStreamsReplication (iam:DeleteServiceLinkedRole), which stops replication for every table in the account",
                principal.class.as_str(),
                principal.address
            ),
            "allows iam:DeleteServiceLinkedRole on the replication role".to_string(),
        );
        if let Some(decl) = principal.span
            && decl != span
        {
            f.labels.push(Label {
                span: ctx.sources.first_line(decl),
                message: format!("{} declared here", principal.class.as_str()),
            });
        }
        f.principal = Some(principal.id.clone());
        f.resource = Some(super::covers_id(ctx, &a.covers));
        f.capability = Some("delete-slr".to_string());
        out.push(f);
    }
    out.extend(indirect(meta, ctx, delete));
    out
}

/// Principals that can delete the SLR only through other principals: at the first step.
fn indirect(meta: &RuleMeta, ctx: &CheckContext<'_>, delete: crate::capability::CapId) -> Vec<Finding> {
    let mut out = Vec::new();
    for x in ctx.reach.indirect.iter().filter(|x| x.cap == delete && x.outcome.can()) {
        let principal = &ctx.graph.principals[x.principal];
        let Some(span) = crate::reach::first_step_span(ctx.reach, x).or(principal.span) else {
            continue;
        };
        let how = if x.outcome == crate::iam::eval::Outcome::Allowed {
            "can"
        } else {
            "may be able to"
        };
        let path = crate::reach::path_words(ctx.graph, ctx.sources, ctx.reach, "delete-slr", x);
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` {how} delete the service-linked role AWSServiceRoleForDynamoDBKinesisDataStreamsReplication through other principals: {path}",
                principal.class.as_str(),
                principal.address
            ),
            "first step of a path to iam:DeleteServiceLinkedRole".to_string(),
        );
        f.labels.extend(super::declared_here(ctx, x.principal));
        f.principal = Some(principal.id.clone());
        f.resource = Some(super::covers_id(ctx, &x.covers));
        f.capability = Some("delete-slr".to_string());
        out.push(f);
    }
    out
}
