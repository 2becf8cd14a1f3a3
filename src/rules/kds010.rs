//! KDS010 `unknown-action`: a policy names a `dynamodb:`, `kinesis:`, `iam:` or `kms:`
//! action that does not exist; the help suggests the nearest real name.

use crate::catalog::{CATALOGUED_SERVICES, action_info, nearest_action};
use crate::finding::Finding;
use crate::iam::policy::{Which, parse};
use crate::rules::{CheckContext, RuleMeta, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for input in &ctx.graph.inputs {
        for policy in &input.policies {
            let (doc, _) = parse(&policy.document);
            for s in &doc.statements {
                let pats = match &s.actions {
                    Which::Listed(p) | Which::Not(p, _) => p,
                    _ => continue,
                };
                for pat in pats {
                    let Some(action) = pat.text.as_literal() else { continue };
                    if action.contains('*') || action.contains('?') || pat.span.is_builtin() {
                        continue;
                    }
                    let Some((service, _)) = action.split_once(':') else {
                        continue;
                    };
                    let service = service.to_ascii_lowercase();
                    if !CATALOGUED_SERVICES.contains(&service.as_str()) || action_info(action).is_some() {
                        continue;
                    }
                    let mut f = finding(
                        meta,
                        pat.span,
                        format!("`{action}` is not an action of {service}: this grant or deny has no effect"),
                        "no such action".to_string(),
                    );
                    if let Some(near) = nearest_action(action) {
                        f.help = format!("Did you mean `{near}`? {}", f.help);
                    }
                    out.push(f);
                }
            }
        }
    }
    out
}
