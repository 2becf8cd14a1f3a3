//! KDS006 `manage-via-wildcard`: `disable` or `update` is granted only through a wildcard
//! or `NotAction`, never by naming the action.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::iam::eval::Layer;
use crate::iam::policy::Effect;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding};
use crate::source::Span;

/// A principal's earliest wildcard grant (for ordering, and its span) and the capabilities.
type Earliest = ((String, u32), Span, Vec<String>);

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    // Per principal: its earliest wildcard grant, and the capabilities granted only so. One
    // finding per principal, wherever the formats happen to write the grants.
    let mut hits: BTreeMap<usize, Earliest> = BTreeMap::new();
    for a in &ctx.decisions.entries {
        let capability = ctx.decisions.cap_name(a.cap);
        let d = ctx.decisions.decision(a);
        if !(capability == "disable" || capability == "update") || !d.outcome.can() {
            continue;
        }
        let principal = &ctx.graph.principals[a.principal];
        // Where each grant is written: the action string in the templates, or, for a bundled
        // AWS managed policy, the place that attaches it; whether it names the action is a
        // property of the evaluator's match (`Because::named`).
        let mut places: Vec<(Span, bool)> = Vec::new();
        let grants = d
            .requirements
            .iter()
            .filter(|r| r.primary)
            .flat_map(|r| r.decision.because.iter())
            .filter(|b| b.effect == Effect::Allow && matches!(b.layer, Layer::Identity | Layer::Resource));
        for b in grants {
            match b.action.filter(|s| !s.is_builtin()) {
                Some(span) => places.push((span, b.named)),
                None => {
                    let Some(&k) = ctx.policy_index.get(&*b.policy) else {
                        continue;
                    };
                    if let Some(v) = principal.via.iter().find(|v| v.policy == k && !v.boundary) {
                        places.push((v.attachment, b.named));
                    }
                }
            }
        }
        if places.is_empty() || places.iter().any(|(_, named)| *named) {
            continue;
        }
        if let Some((first, _)) = places.iter().min_by_key(|(s, _)| (ctx.sources.path(*s), s.start)) {
            let at = (ctx.sources.path(*first), first.start);
            let e = hits
                .entry(a.principal)
                .or_insert_with(|| (at.clone(), *first, Vec::new()));
            if at < e.0 {
                (e.0, e.1) = (at, *first);
            }
            if !e.2.iter().any(|c| c == capability) {
                e.2.push(capability.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for (p, (_, span, capabilities)) in hits {
        let principal = &ctx.graph.principals[p];
        let action = capabilities
            .iter()
            .map(|c| primary_action(c))
            .collect::<Vec<_>>()
            .join(" and ");
        let capability = capabilities.join(" and ");
        let text = ctx
            .sources
            .get(span.file)
            .and_then(|f| f.slice(span).map(str::to_string))
            .unwrap_or_default();
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` can {capability} replication only through {}: {action} {} never named",
                principal.class.as_str(),
                principal.address,
                through(text.trim()),
                if capabilities.len() > 1 { "are" } else { "is" }
            ),
            format!("covers {action}"),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(principal.id.clone());
        f.capability = capabilities.first().cloned();
        out.push(f);
    }
    out
}

fn primary_action(capability: &str) -> &'static str {
    match capability {
        "disable" => "dynamodb:DisableKinesisStreamingDestination",
        _ => "dynamodb:UpdateKinesisStreamingDestination",
    }
}

/// How the grant reads in the message: the action string, or the AWS managed policy that an
/// attachment names.
fn through(text: &str) -> String {
    match text.split_once(":iam::aws:policy/") {
        Some((_, name)) => {
            // The policy name: up to the first character an ARN cannot hold.
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || "/_+=,.@-".contains(c)))
                .unwrap_or(name.len());
            let name = name[..end].trim_end_matches(',');
            let name = name.rsplit('/').next().unwrap_or(name);
            format!("the AWS managed policy {name}")
        }
        None => text.to_string(),
    }
}
