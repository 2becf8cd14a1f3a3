//! KDS010 `unknown-action`: a policy names a `dynamodb:`, `kinesis:`, `iam:` or `kms:`
//! action that does not exist; the help suggests the nearest real name.

use crate::finding::Finding;
use crate::iam::actions::unknown_actions;
use crate::rules::{CheckContext, RuleMeta, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (policy, _) in ctx.graph.declared_policies() {
        for unknown in unknown_actions(&policy.policy.document) {
            let (action, service) = (unknown.action, &unknown.service);
            let mut f = finding(
                meta,
                unknown.pat.span,
                format!("`{action}` is not an action of {service}: this grant or deny has no effect"),
                "no such action".to_string(),
            );
            if let Some(near) = unknown.nearest {
                f.help = format!("Did you mean `{near}`? {}", f.help);
            }
            out.push(f);
        }
    }
    out
}
