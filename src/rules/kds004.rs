//! KDS004 `slr-deletable`: a principal's `delete-slr` decision is allowed or conditional.

use crate::finding::{Finding, Label};
use crate::rules::{CheckContext, RuleMeta, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in ctx.access {
        if a.capability != "delete-slr" || !a.outcome.can() {
            continue;
        }
        let principal = &ctx.graph.principals[a.principal];
        let Some(span) = super::granting(a, ctx, |_| true) else {
            continue;
        };
        let how = if a.outcome == crate::iam::eval::Outcome::Allowed {
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
        f.resource = Some(super::target_id(ctx.graph, &a.target));
        f.capability = Some("delete-slr".to_string());
        out.push(f);
    }
    out
}
