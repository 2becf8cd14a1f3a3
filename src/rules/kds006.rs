//! KDS006 `manage-via-wildcard`: `disable` or `update` is granted only through a wildcard
//! or `NotAction`, never by naming the action.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::iam::eval::Layer;
use crate::iam::policy::{Document, Effect, Which};
use crate::rules::{CheckContext, RuleMeta, declared_here, finding};
use crate::source::Span;

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    // (principal, capability) → the wildcard action strings that grant it.
    let mut hits: BTreeMap<(usize, (String, u32), Span), Vec<String>> = BTreeMap::new();
    for a in &ctx.decisions.entries {
        let capability = ctx.decisions.cap_name(a.cap);
        let d = ctx.decisions.decision(a);
        if !(capability == "disable" || capability == "update") || !d.outcome.can() {
            continue;
        }
        let principal = &ctx.graph.principals[a.principal];
        let action = primary_action(capability);
        // Where each grant is written: the action string in the templates, or, for a bundled
        // AWS managed policy, the place that attaches it (and whether it names the action).
        let mut places: Vec<(Span, bool)> = Vec::new();
        let grants = d
            .requirements
            .iter()
            .filter(|r| r.primary)
            .flat_map(|r| r.decision.because.iter())
            .filter(|b| b.effect == Effect::Allow && matches!(b.layer, Layer::Identity | Layer::Resource));
        for b in grants {
            match b.action.filter(|s| !s.is_builtin()) {
                Some(span) => {
                    let text = ctx
                        .sources
                        .get(span.file)
                        .and_then(|f| f.slice(span).map(str::to_string));
                    let named = text.is_some_and(|t| !t.contains(['*', '?']) && !t.contains("NotAction"));
                    places.push((span, named));
                }
                None => {
                    let Some(&k) = ctx.policy_index.get(&*b.policy) else {
                        continue;
                    };
                    let named = names_action(&ctx.graph.policies[k].policy.document, action);
                    if let Some(v) = principal.via.iter().find(|v| v.policy == k && !v.boundary) {
                        places.push((v.attachment, named));
                    }
                }
            }
        }
        if places.is_empty() || places.iter().any(|(_, named)| *named) {
            continue;
        }
        if let Some((first, _)) = places.iter().min_by_key(|(s, _)| (ctx.sources.path(*s), s.start)) {
            hits.entry((a.principal, (ctx.sources.path(*first), first.start), *first))
                .or_default()
                .push(capability.to_string());
        }
    }
    let mut out = Vec::new();
    for ((p, _, span), mut capabilities) in hits {
        capabilities.dedup();
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

/// Whether an Allow statement of a (bundled) document lists `action` by its exact name.
fn names_action(doc: &Document, action: &str) -> bool {
    doc.statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .any(|s| match &s.actions {
            Which::Listed(pats) => pats
                .iter()
                .any(|p| p.text.as_literal().is_some_and(|t| t.eq_ignore_ascii_case(action))),
            _ => false,
        })
}

/// How the grant reads in the message: the action string, or the AWS managed policy that an
/// attachment names.
fn through(text: &str) -> String {
    match text.split_once(":iam::aws:policy/") {
        Some((_, name)) => {
            let name = name
                .trim_end_matches(['"', '\'', ',', ']'])
                .rsplit('/')
                .next()
                .unwrap_or(name);
            format!("the AWS managed policy {name}")
        }
        None => text.to_string(),
    }
}
