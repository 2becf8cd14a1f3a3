//! Principal classes: what a principal's decisions on a set of actions depend on, as one
//! hashable key. Two principals with equal keys get the same decisions (outcomes and
//! proofs) for every request on those actions, so the engine decides one of them and
//! shares the result (capabilities.md: decisions are the same for principals no statement
//! tells apart).
//!
//! The key holds the *statements* that can take part (those whose actions may match, by
//! identity: the same parsed statement of the same policy), the boundary and SCP policies
//! as wholes (their absence of an Allow decides too), the policies that cannot be read,
//! and the caller itself only where something reads it: a condition on a key AWS derives
//! from the caller, a policy variable, or a caller-dependent layer the engine names.

use crate::iam::eval::{Layers, Policy};
use crate::iam::policy::{Statement, Which};
use crate::iam::principal::CallerKind;
use crate::value::Template;

/// A principal class on a set of actions; equal keys decide alike. Cheap to hash and
/// compare (statement and policy identities, not their text).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ClassKey {
    parts: Vec<usize>,
    unknown: Vec<(String, crate::source::Span)>,
    /// The caller's kind and account: trust and resource policies that name an account
    /// root or `*` read only these.
    kind: u8,
    account: Option<Template>,
    /// The caller's ARN, when something the decisions read depends on it.
    caller: Option<Template>,
}

impl ClassKey {
    /// Whether the key had to name the caller (no other principal shares it).
    #[cfg(test)]
    pub(crate) fn names_caller(&self) -> bool {
        self.caller.is_some()
    }
}

/// Condition keys whose value AWS derives from the caller (the request context the engine
/// builds per principal, and the other principal keys, which stay unknown but could be
/// told apart by a future context).
fn reads_caller_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("aws:principal") || k.starts_with("aws:username") || k.starts_with("aws:userid")
}

/// Whether a statement's match can depend on who asks: a caller-derived condition key, a
/// policy variable in its resources or condition values, or a `Principal` element.
pub(crate) fn statement_reads_caller(s: &Statement) -> bool {
    let vars = |w: &Which| match w {
        Which::Listed(pats) | Which::Not(pats, _) => pats.iter().any(|p| p.has_variables()),
        _ => false,
    };
    s.principal.is_some()
        || s.not_principal
        || vars(&s.resources)
        || s.conditions
            .iter()
            .any(|c| reads_caller_key(&c.key) || c.values.iter().any(|v| v.has_variables()))
}

/// Whether a trust or resource policy can tell callers of one account and kind apart: it
/// names principals other than account roots and `*`, uses `NotPrincipal`, reads a
/// caller-derived condition key or variable, or cannot be read (it may name anyone).
pub(crate) fn policy_reads_caller(policy: &Policy) -> bool {
    use crate::iam::policy::Principals;
    use crate::iam::principal::{Caller, CallerKind};
    policy.document.unknown.is_some()
        || policy.document.statements.iter().any(|s| {
            let named = match &s.principal {
                Some(Principals::Listed(list)) => list
                    .iter()
                    .any(|(kind, pat)| kind == "AWS" && Caller::parse(&pat.text).kind != CallerKind::Root),
                Some(Principals::Unknown(..)) => true,
                Some(Principals::Anyone(_)) | None => false,
            };
            let conditions = || {
                s.conditions
                    .iter()
                    .any(|c| reads_caller_key(&c.key) || c.values.iter().any(|v| v.has_variables()))
            };
            named || s.not_principal || conditions()
        })
}

/// A policy's meaning without its positions: equal texts decide every request alike
/// (outcomes, not proofs, which name each policy's own statements). `None` for a document
/// that cannot be read (each such document is its own class).
pub(crate) fn content_text(policy: &Policy) -> Option<String> {
    if policy.document.unknown.is_some() {
        return None;
    }
    let mut out = format!("{:?};", policy.document.version);
    for s in &policy.document.statements {
        out.push_str(&statement_text(s));
    }
    Some(out)
}

/// One statement's meaning without its positions (see [`content_text`]).
pub(crate) fn statement_text(s: &Statement) -> String {
    let which = |w: &Which| match w {
        Which::Listed(pats) => format!("L{:?}", pats.iter().map(|p| &p.text).collect::<Vec<_>>()),
        Which::Not(pats, _) => format!("N{:?}", pats.iter().map(|p| &p.text).collect::<Vec<_>>()),
        Which::Unknown(what, _) => format!("U{what:?}"),
        Which::Absent => "A".to_string(),
    };
    let principal = match &s.principal {
        Some(crate::iam::policy::Principals::Anyone(_)) => "*".to_string(),
        Some(crate::iam::policy::Principals::Listed(list)) => {
            format!("{:?}", list.iter().map(|(k, p)| (k, &p.text)).collect::<Vec<_>>())
        }
        Some(crate::iam::policy::Principals::Unknown(what, _)) => format!("U{what:?}"),
        None => "-".to_string(),
    };
    let conditions: Vec<_> = s
        .conditions
        .iter()
        .map(|c| {
            (
                &c.operator,
                &c.key,
                c.values.iter().map(|v| &v.text).collect::<Vec<_>>(),
                &c.unknown,
            )
        })
        .collect();
    // The `Sid` is left out: it changes no outcome.
    format!(
        "[{:?}|{}|{}|{principal}|{}|{conditions:?}|{:?}]",
        s.effect,
        which(&s.actions),
        which(&s.resources),
        s.not_principal,
        s.effect_unknown.as_ref().map(|(w, _)| w),
    )
}

/// What a principal's decision *outcomes* on `actions` depend on, by meaning rather than by
/// identity: principals with equal keys get the same outcome on every request for those
/// actions (their proofs name each one's own statements). Keys as [`class_key`], with the
/// statements' and policies' texts in place of their identities (a document that cannot be
/// read keeps its identity).
///
/// `may_match` says which statements can match the resources asked about at all (the others
/// are left out of the identity part: they decide nothing there).
pub(crate) fn outcome_key(
    layers: &Layers<'_>,
    actions: &[&str],
    may_match: impl Fn(&Statement) -> bool,
    caller: &Template,
    caller_matters: bool,
) -> OutcomeKey {
    let mut texts: Vec<String> = Vec::new();
    let mut reads = caller_matters;
    // Per layer, its statements that can match, in any order (a layer allows when one of
    // them does). A certain Allow of every action on every resource makes the other Allows
    // of its layer say nothing more: only Denies and unreadable policies still count.
    let mut layer = |marker: &str, policies: &[&Policy], texts: &mut Vec<String>| {
        texts.push(marker.to_string());
        let mut part: Vec<String> = Vec::new();
        let relevant: Vec<(&Policy, &Statement)> = policies
            .iter()
            .flat_map(|p| p.document.statements.iter().map(move |s| (*p, s)))
            .filter(|(_, s)| crate::iam::eval::statement_concerns(s, actions) && may_match(s))
            .collect();
        let dominant = relevant.iter().any(|(_, s)| certain_allow(s, actions));
        if dominant {
            part.push("allows all".to_string());
        }
        for p in policies {
            if p.document.unknown.is_some() {
                part.push(format!("unknown#{}", id(*p)));
            }
        }
        for (p, s) in relevant {
            if dominant && s.effect == crate::iam::policy::Effect::Allow && s.effect_unknown.is_none() {
                continue;
            }
            part.push(format!("{:?}{}", p.document.has_policy_variables(), statement_text(s)));
            reads |= statement_reads_caller(s);
        }
        part.sort();
        texts.extend(part);
    };
    layer("identity", &layers.identity, &mut texts);
    // Boundary, session and SCP layers also count by being there: with no statement that
    // can match, they refuse.
    if !layers.boundary.is_empty() {
        layer("boundary", &layers.boundary, &mut texts);
    }
    if !layers.session.is_empty() {
        layer("session", &layers.session, &mut texts);
    }
    for level in &layers.scps {
        layer("scp", level, &mut texts);
    }
    let parsed = crate::iam::principal::Caller::parse(caller);
    // A policy that names account roots or `*` matches users and roles of the account
    // alike; only a condition could tell them apart, and then the caller is in the key.
    let kind = match parsed.kind {
        CallerKind::User | CallerKind::Role if !reads => CallerKind::User,
        other => other,
    };
    OutcomeKey {
        texts,
        unknown: layers.unknown_identity.iter().map(|u| u.what.clone()).collect(),
        kind: kind as u8,
        account: parsed.account,
        caller: reads.then(|| caller.clone()),
    }
}

/// Whether a statement allows each of `actions` on every resource for certain: an
/// unconditional Allow, its effect known, whose actions certainly cover them and whose
/// resources are `*`.
fn certain_allow(s: &Statement, actions: &[&str]) -> bool {
    use crate::iam::pattern::Tri;
    let covers = |a: &str| match &s.actions {
        Which::Listed(pats) => s.match_action_list(pats, a).0 == Tri::Yes,
        Which::Not(pats, _) => s.match_action_list(pats, a).0 == Tri::No,
        _ => false,
    };
    let everywhere =
        matches!(&s.resources, Which::Listed(pats) if pats.iter().any(|p| p.text.as_literal() == Some("*")));
    s.effect == crate::iam::policy::Effect::Allow
        && s.effect_unknown.is_none()
        && s.conditions.is_empty()
        && everywhere
        && actions.iter().all(|a| covers(a))
}

/// A class of principals by the outcomes of their decisions ([`outcome_key`]).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct OutcomeKey {
    texts: Vec<String>,
    unknown: Vec<String>,
    kind: u8,
    account: Option<Template>,
    caller: Option<Template>,
}

fn id<T>(x: &T) -> usize {
    x as *const T as usize
}

/// The class of a principal with `layers` on `actions`. `caller` is the principal's ARN;
/// `caller_matters` says that a layer outside `layers` (a resource policy, a trust policy)
/// may read it, so the key keeps it.
pub(crate) fn class_key(layers: &Layers<'_>, actions: &[&str], caller: &Template, caller_matters: bool) -> ClassKey {
    let mut parts: Vec<usize> = Vec::new();
    let mut reads = caller_matters;
    let relevant = |policy: &Policy, parts: &mut Vec<usize>, reads: &mut bool| {
        if policy.document.unknown.is_some() {
            parts.push(id(policy));
        }
        for s in &policy.document.statements {
            if crate::iam::eval::statement_concerns(s, actions) {
                parts.push(id(s));
                *reads |= statement_reads_caller(s);
            }
        }
    };
    for p in &layers.identity {
        relevant(p, &mut parts, &mut reads);
    }
    // Boundary, SCP and session layers decide by what they lack too: whole policies.
    for (marker, layer) in [(1usize, &layers.boundary), (2, &layers.session)] {
        if !layer.is_empty() {
            parts.push(marker);
            for p in layer.iter() {
                parts.push(id(*p));
                relevant(p, &mut Vec::new(), &mut reads);
            }
        }
    }
    for level in &layers.scps {
        parts.push(3);
        for p in level {
            parts.push(id(*p));
            relevant(p, &mut Vec::new(), &mut reads);
        }
    }
    let parsed = crate::iam::principal::Caller::parse(caller);
    ClassKey {
        parts,
        kind: parsed.kind as u8,
        account: parsed.account,
        unknown: layers
            .unknown_identity
            .iter()
            .map(|u| (u.what.clone(), u.span))
            .collect(),
        caller: reads.then(|| caller.clone()),
    }
}

/// Groups items by key: per item, the index of the first item with an equal key (its
/// class's representative), in item order.
pub(crate) fn representatives<K: std::hash::Hash + Eq>(keys: impl IntoIterator<Item = K>) -> Vec<usize> {
    let mut first: foldhash::HashMap<K, usize> = foldhash::HashMap::default();
    keys.into_iter()
        .enumerate()
        .map(|(k, key)| *first.entry(key).or_insert(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::eval::policy_from_json as policy;

    #[test]
    fn statements_that_cannot_match_do_not_split_a_class() {
        let shared = policy(r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#);
        let a = policy(r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#);
        let b = policy(r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#);
        let la = Layers {
            identity: vec![&shared, &a],
            ..Layers::default()
        };
        let lb = Layers {
            identity: vec![&shared, &b],
            ..Layers::default()
        };
        let arn_a = Template::lit("arn:aws:iam::1:user/a");
        let arn_b = Template::lit("arn:aws:iam::1:user/b");
        let ka = class_key(&la, &["sts:AssumeRole"], &arn_a, false);
        let kb = class_key(&lb, &["sts:AssumeRole"], &arn_b, false);
        assert_eq!(ka, kb);
        assert!(!ka.names_caller());
        // A statement that may match splits them.
        assert_ne!(ka, class_key(&lb, &["ec2:RunInstances"], &arn_b, false));
        // A layer outside that reads the caller keeps the caller in the key.
        assert_ne!(
            class_key(&la, &["sts:AssumeRole"], &arn_a, true),
            class_key(&lb, &["sts:AssumeRole"], &arn_b, true)
        );
    }

    #[test]
    fn a_caller_condition_or_variable_names_the_caller() {
        let cond = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*",
                "Condition":{"StringEquals":{"aws:username":"x"}}}]}"#,
        );
        let var = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
                "Resource":"arn:aws:iam::1:role/${aws:username}"}]}"#,
        );
        let arn = Template::lit("arn:aws:iam::1:user/a");
        for p in [&cond, &var] {
            let l = Layers {
                identity: vec![p],
                ..Layers::default()
            };
            assert!(class_key(&l, &["sts:AssumeRole"], &arn, false).names_caller());
        }
    }

    #[test]
    fn boundaries_count_as_whole_policies() {
        let allow = policy(r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#);
        let unrelated = policy(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
        let arn = Template::lit("arn:aws:iam::1:user/a");
        let none = Layers {
            identity: vec![&allow],
            ..Layers::default()
        };
        let bounded = Layers {
            identity: vec![&allow],
            boundary: vec![&unrelated],
            ..Layers::default()
        };
        assert_ne!(
            class_key(&none, &["sts:AssumeRole"], &arn, false),
            class_key(&bounded, &["sts:AssumeRole"], &arn, false)
        );
    }

    #[test]
    fn representatives_are_first_of_their_key() {
        assert_eq!(representatives(["a", "b", "a", "c", "b"]), vec![0, 1, 0, 3, 1]);
    }
}
