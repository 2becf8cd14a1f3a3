//! KDS004 `slr-deletable`: a principal's `delete-slr` decision is allowed or conditional,
//! directly or through other principals: one finding per principal (one SLR per account).

use std::fmt::Write as _;

use crate::finding::{Finding, Label};
use crate::rules::{CheckContext, RuleMeta, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(delete) = ctx.decisions.cap("delete-slr") else {
        return out;
    };
    // One finding per principal: where a path through other principals beats a direct
    // `conditional` (reach keeps only such paths), the direct finding names it.
    let mut direct = std::collections::BTreeSet::new();
    for a in &ctx.decisions.entries {
        let d = ctx.decisions.decision(a);
        if a.cap != delete || !d.outcome.can() || direct.contains(&a.principal) {
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
        if let Some(x) = ctx
            .reach
            .of(a.principal)
            .iter()
            .find(|x| x.cap == delete && x.outcome.can())
        {
            let path = crate::reach::path_words(ctx.graph, ctx.sources, ctx.reach, "delete-slr", x);
            let _ = write!(f.message, "; through other principals ({}): {path}", x.outcome.as_str());
        }
        direct.insert(a.principal);
        if let Some(decl) = principal.span
            && decl != span
        {
            f.labels.push(Label {
                span: ctx.sources.first_line(decl),
                message: format!("{} declared here", principal.class.as_str()),
            });
        }
        f.principal = Some(a.principal);
        f.resource = Some(super::covers_resource(ctx, &a.covers));
        f.capability = Some(delete);
        out.push(f);
    }
    out.extend(indirect(meta, ctx, delete, &direct));
    out
}

/// Principals that can delete the SLR only through other principals: at the first step.
fn indirect(
    meta: &RuleMeta,
    ctx: &CheckContext<'_>,
    delete: crate::capability::CapId,
    direct: &std::collections::BTreeSet<usize>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for x in ctx
        .reach
        .indirect
        .iter()
        .filter(|x| x.cap == delete && x.outcome.can() && !direct.contains(&x.principal))
    {
        if !seen.insert(x.principal) {
            continue;
        }
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
        f.principal = Some(x.principal);
        f.resource = Some(super::covers_resource(ctx, &x.covers));
        f.capability = Some(delete);
        out.push(f);
    }
    out
}
