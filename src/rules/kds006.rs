//! KDS006 `manage-via-wildcard`: `disable` or `update` is granted only through a wildcard
//! or `NotAction`, never by naming the action.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::iam::eval::Layer;
use crate::iam::policy::Effect;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding};
use crate::source::Span;
use crate::value::Template;

/// A principal's earliest wildcard grant (for ordering, its span, and its words when the
/// source text is not the grant's) and the capabilities.
type Earliest = ((String, u32), Span, Option<String>, Vec<String>);

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
        let mut places: Vec<Place> = Vec::new();
        let grants = d
            .requirements
            .iter()
            .filter(|r| r.primary)
            .flat_map(|r| r.decision.because.iter())
            .filter(|b| b.effect == Effect::Allow && matches!(b.layer, Layer::Identity | Layer::Resource));
        for b in grants {
            match b.action.filter(|s| !s.is_builtin()) {
                Some(span) => places.push(Place {
                    span,
                    named: b.named,
                    words: None,
                }),
                None => {
                    let Some((id, node)) = b.policy_id.and_then(|id| Some((id, ctx.graph.policy(id)?))) else {
                        continue;
                    };
                    if let Some(v) = principal.via.iter().find(|v| v.policy == id.index() && !v.boundary) {
                        let policy = &node.policy;
                        places.push(Place {
                            span: v.attachment,
                            named: b.named,
                            words: Some(bundled_grant(policy, b.sid.as_deref(), primary_action(ctx, capability))),
                        });
                    }
                }
            }
        }
        if places.is_empty() || places.iter().any(|p| p.named) {
            continue;
        }
        if let Some(first) = places.iter().min_by_key(|p| (ctx.sources.path(p.span), p.span.start)) {
            let at = (ctx.sources.path(first.span), first.span.start);
            let e = hits
                .entry(a.principal)
                .or_insert_with(|| (at.clone(), first.span, first.words.clone(), Vec::new()));
            if at < e.0 {
                (e.0, e.1, e.2) = (at, first.span, first.words.clone());
            }
            if !e.3.iter().any(|c| c == capability) {
                e.3.push(capability.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for (p, (_, span, words, capabilities)) in hits {
        let principal = &ctx.graph.principals[p];
        let action = capabilities
            .iter()
            .map(|c| primary_action(ctx, c))
            .collect::<Vec<_>>()
            .join(" and ");
        let capability = capabilities.join(" and ");
        // A grant written in the templates reads as its action string; one of a bundled AWS
        // managed policy as the policy and its wildcard, never the attachment's source.
        let through = words.unwrap_or_else(|| {
            ctx.sources
                .get(span.file)
                .and_then(|f| f.slice(span).map(|t| t.trim().to_string()))
                .unwrap_or_default()
        });
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` can {capability} replication only through {}: {action} {} never named",
                principal.class.as_str(),
                principal.address,
                through,
                if capabilities.len() > 1 { "are" } else { "is" }
            ),
            format!("covers {action}"),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(p);
        f.capability = capabilities.first().and_then(|c| ctx.decisions.cap(c));
        out.push(f);
    }
    out
}

/// The action of the capability's primary requirement (the catalogue's).
fn primary_action<'a>(ctx: &CheckContext<'a>, capability: &str) -> &'a str {
    ctx.decisions
        .named(capability)
        .and_then(|c| c.primary())
        .map_or("", |r| r.action.as_str())
}

/// Where a principal's grant is written, whether it names the action, and, for a bundled
/// AWS managed policy, how the message names it.
struct Place {
    span: Span,
    named: bool,
    words: Option<String>,
}

/// A grant of a bundled AWS managed policy in words: the policy's name and the wildcards (or
/// `NotAction`) of its Allow statements that cover `action` (the statement `sid` when the
/// proof gives one), e.g. "the AWS managed policy AdministratorAccess (`*`)".
fn bundled_grant(policy: &crate::iam::eval::Policy, sid: Option<&str>, action: &str) -> String {
    let arn = crate::iam::arn::parse(&Template::lit(&*policy.address));
    let path_and_name = arn.as_ref().and_then(|a| a.aws_managed_policy());
    let name = path_and_name
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or(&policy.address);
    let wildcards = policy.document.allowing_patterns(sid, action);
    if wildcards.is_empty() {
        return format!("the AWS managed policy {name}");
    }
    let quoted: Vec<String> = wildcards.iter().map(|w| format!("`{w}`")).collect();
    format!("the AWS managed policy {name} ({})", quoted.join(", "))
}
