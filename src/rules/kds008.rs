//! KDS008 `destination-key-policy`: a table streams to a stream encrypted with a declared
//! customer managed KMS key whose key policy neither lets the replication role generate
//! data keys nor delegates to IAM through the account.

use std::collections::HashMap;

use crate::finding::{Finding, Label, Resource};
use crate::graph::{SLR_SERVICE, slr_arn};
use crate::iam::key_policy::{ServiceCaller, admits};
use crate::rules::{CheckContext, RuleMeta, finding};
use crate::value::ValueKind;

/// The service principals that act as the replication role on the key.
const REPLICATION_SERVICES: &[&str] = &[SLR_SERVICE, "dynamodb.amazonaws.com"];

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let g = ctx.graph;
    let role_arn = slr_arn();
    let caller = ServiceCaller {
        role_arn: &role_arn,
        services: REPLICATION_SERVICES,
    };
    let streams: HashMap<&str, usize> = g.streams.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let mut out = Vec::new();
    for (t, table) in g.tables.iter().enumerate() {
        let Some(stream) = table
            .stream
            .as_deref()
            .and_then(|id| streams.get(id))
            .map(|&i| &g.streams[i])
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
        // The key policy this input declares for the key (parsed once, in the graph).
        let Some((policy, declared)) = g
            .resource_policies
            .get(&key.arn)
            .into_iter()
            .flatten()
            .map(|&k| &g.policies[k])
            .find_map(|p| {
                let declared = input.policies.get(p.declared?)?;
                (p.input == Some(stream.input)).then_some((p, declared))
            })
        else {
            // No key policy declared: AWS's default key policy delegates to IAM.
            continue;
        };
        let doc = &policy.policy.document;
        if doc.unknown.is_some() || admits(doc, "kms:GenerateDataKey", &caller) {
            continue;
        }
        let mut f = finding(
            meta,
            declared.document.span,
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
        f.resource = Some(Resource::Table(t));
        out.push(f);
    }
    out
}
