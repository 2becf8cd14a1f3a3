//! KDS008 `destination-key-policy`: a table streams to a stream encrypted with a declared
//! customer managed KMS key whose key policy neither lets the replication role generate
//! data keys nor delegates to IAM through the account.

use crate::finding::{Finding, Label};
use crate::graph::{SLR_SERVICE, slr_arn};
use crate::iam::pattern::{Tri, match_action, match_resource, text_tokens};
use crate::iam::policy::{Effect, Principals, Which, parse};
use crate::model::PolicyKind;
use crate::rules::{CheckContext, RuleMeta, finding};
use crate::value::{Template, ValueKind};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let g = ctx.graph;
    let mut out = Vec::new();
    for table in &g.tables {
        let Some(stream) = table
            .stream
            .as_ref()
            .and_then(|id| g.streams.iter().find(|s| &s.id == id))
        else {
            continue;
        };
        let Some(key_ref) = stream.stream.kms_key.as_ref().and_then(|v| match &v.kind {
            ValueKind::Str(t) => Some(t.clone()),
            _ => None,
        }) else {
            continue;
        };
        let input = &g.inputs[stream.input];
        let Some(key) = input.keys.iter().find(|k| k.arn == key_ref || k.id == key_ref) else {
            continue;
        };
        let Some(policy) = input
            .policies
            .iter()
            .find(|p| p.kind == PolicyKind::Resource && p.resource.as_ref() == Some(&key.arn))
        else {
            // No key policy declared: AWS's default key policy delegates to IAM.
            continue;
        };
        let (doc, _) = parse(&policy.document);
        if doc.unknown.is_some() || admits_replication(&doc) {
            continue;
        }
        let mut f = finding(
            meta,
            policy.document.span,
            format!(
                "table {} streams to `{}`, encrypted with `{}`, whose key policy neither allows the replication role kms:GenerateDataKey nor delegates to IAM through the account: replication cannot write to the stream",
                table.table.name, stream.stream.address, key.address
            ),
            "key policy without the replication role or the account".to_string(),
        );
        if let Some(dest) = table.destination_span {
            f.labels.push(Label {
                span: ctx.sources.first_line(dest),
                message: "replication to the encrypted stream".to_string(),
            });
        }
        f.resource = Some(table.id.clone());
        out.push(f);
    }
    out
}

/// Whether some Allow statement covering kms:GenerateDataKey names the account (root or
/// id), anyone, the replication role, or the replication service.
fn admits_replication(doc: &crate::iam::policy::Document) -> bool {
    let slr = text_tokens(&slr_arn());
    doc.statements.iter().any(|s| {
        if s.effect != Effect::Allow {
            return false;
        }
        let action = match &s.actions {
            Which::Listed(p) => p
                .iter()
                .any(|p| match_action(&p.text, "kms:GenerateDataKey") != Tri::No),
            Which::Not(p, _) => p
                .iter()
                .all(|p| match_action(&p.text, "kms:GenerateDataKey") == Tri::No),
            Which::Unknown(..) => true,
            Which::Absent => false,
        };
        action
            && match &s.principal {
                None | Some(Principals::Anyone(_)) | Some(Principals::Unknown(..)) => true,
                Some(Principals::Listed(list)) => list.iter().any(|(kind, pat)| {
                    let text = pat.text.to_string();
                    match kind.as_str() {
                        "AWS" => {
                            text.ends_with(":root")
                                || (text.len() == 12 && text.chars().all(|c| c.is_ascii_digit()))
                                || !pat.text.is_literal() && pat.text.opaques().next().is_some()
                                || match_resource(&pat.text, &slr) != Tri::No
                                || pat.text == Template::lit("*")
                        }
                        "Service" => text == SLR_SERVICE || text == "dynamodb.amazonaws.com",
                        _ => false,
                    }
                }),
            }
    })
}
