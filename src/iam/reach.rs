//! The IAM side of reach (capabilities.md, "Access through other principals"): whether a
//! caller may assume a role under AWS's role-trust rules, which IAM writes add
//! permissions to which entity, and which permissions the analysis does not follow.

use crate::iam::condition::Context;
use crate::iam::eval::{self, Decision, Layers, Outcome, Policy, Request};
use crate::iam::pattern::{Tri, match_resource, text_tokens};
use crate::iam::policy::{Effect, Principals, Which};
use crate::iam::principal::{Caller, CallerKind};
use crate::value::Template;

/// The request a role assumption makes.
pub(crate) const ASSUME_ROLE: &str = "sts:AssumeRole";
/// Adds a user to a group (the user then holds the group's policies).
pub(crate) const ADD_USER_TO_GROUP: &str = "iam:AddUserToGroup";
/// Ways of acting as another principal that are not followed in this version.
pub(crate) const NOT_FOLLOWED: &[&str] = &["iam:PassRole", "iam:CreateAccessKey", "iam:UpdateLoginProfile"];
/// Every action a permission-change step can use (to find the callers worth asking).
pub(crate) const CHANGE_ACTIONS: &[&str] = &[
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:PutGroupPolicy",
    "iam:AttachGroupPolicy",
    "iam:CreatePolicyVersion",
    ADD_USER_TO_GROUP,
];

/// What kind of IAM entity a permission change writes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entity {
    Role,
    User,
    Group,
    ManagedPolicy,
}

/// The actions that add permissions to an entity of this kind (any one suffices).
/// `iam:CreatePolicyVersion` suffices alone: the new version can be made the default.
pub fn adding(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Role => &["iam:PutRolePolicy", "iam:AttachRolePolicy"],
        Entity::User => &["iam:PutUserPolicy", "iam:AttachUserPolicy"],
        Entity::Group => &["iam:PutGroupPolicy", "iam:AttachGroupPolicy"],
        Entity::ManagedPolicy => &["iam:CreatePolicyVersion"],
    }
}

/// The action that removes a role's or user's permissions boundary.
pub(crate) fn boundary_removal(role: bool) -> &'static str {
    if role {
        "iam:DeleteRolePermissionsBoundary"
    } else {
        "iam:DeleteUserPermissionsBoundary"
    }
}

/// The action that removes an inline (`inline`) or attached managed policy of a role or user.
pub(crate) fn policy_removal(role: bool, inline: bool) -> &'static str {
    match (role, inline) {
        (true, true) => "iam:DeleteRolePolicy",
        (true, false) => "iam:DetachRolePolicy",
        (false, true) => "iam:DeleteUserPolicy",
        (false, false) => "iam:DetachUserPolicy",
    }
}

/// The caller (with `layers`) assumes the role `role_arn`, whose trust policy is `trust`:
/// the trust policy is the resource policy, under the role-trust rules of [`eval::decide`].
pub fn assume_role(
    layers: &Layers<'_>,
    trust: &Policy,
    role_arn: &Template,
    caller_arn: &Template,
    ctx: &Context,
) -> Decision {
    let mut req = Request::on(ASSUME_ROLE, role_arn, Some(caller_arn), ctx);
    req.trust = true;
    eval::decide(layers, &[trust], &req)
}

/// [`assume_role`] for a caller parsed already, read through `view` (an
/// [`eval::ActionView`] of `layers` on `sts:AssumeRole`): the same decision, without
/// parsing the caller or matching each statement's actions again.
pub(crate) fn assume_role_viewed(
    layers: &Layers<'_>,
    view: &eval::ActionView,
    trust: &Policy,
    role_arn: &Template,
    caller: &crate::iam::principal::Caller,
    ctx: &Context,
) -> Decision {
    let mut req = Request::on(ASSUME_ROLE, role_arn, Some(&caller.arn), ctx)
        .with_view(view)
        .with_caller(caller);
    req.trust = true;
    eval::decide(layers, &[trust], &req)
}

/// Every position a policy's statements hold (statements, patterns and the unresolved
/// parts inside them, `Not…` keys, conditions, unresolved elements), in one order: two
/// documents whose [`crate::iam::class::content_text`] is equal give lists of the same
/// length, position for position.
pub fn positions(policy: &Policy) -> Vec<crate::source::Span> {
    fn pat(out: &mut Vec<crate::source::Span>, p: &crate::iam::policy::Pat) {
        out.push(p.span);
        out.extend(p.text.opaques().map(|o| o.span));
    }
    fn which(out: &mut Vec<crate::source::Span>, w: &Which) {
        match w {
            Which::Listed(pats) => pats.iter().for_each(|p| pat(out, p)),
            Which::Not(pats, key) => {
                out.push(*key);
                pats.iter().for_each(|p| pat(out, p));
            }
            Which::Unknown(_, span) => out.push(*span),
            Which::Absent => {}
        }
    }
    let mut out = Vec::new();
    for s in &policy.document.statements {
        out.push(s.span);
        which(&mut out, &s.actions);
        which(&mut out, &s.resources);
        match &s.principal {
            Some(Principals::Anyone(span) | Principals::Unknown(_, span)) => out.push(*span),
            Some(Principals::Listed(list)) => list.iter().for_each(|(_, p)| pat(&mut out, p)),
            None => {}
        }
        for c in &s.conditions {
            out.push(c.key_span);
            c.values.iter().for_each(|v| pat(&mut out, v));
        }
        if let Some((_, span)) = &s.effect_unknown {
            out.push(*span);
        }
    }
    out
}

/// A caller's decision `d` on a role whose trust policy is `from`, as it reads for another
/// role whose trust policy `to` says the same thing (equal `content_text`, the same
/// account) and that the caller's statements match alike: the statements, actions and
/// conditions of `from` it cites become `to`'s (with `to`'s `Sid`s). `from_at` and `to_at`
/// are the two policies' [`positions`]. `None` when the two do not line up position for
/// position, or `from` is no graph policy (proofs cite it by [`Policy::id`]): the caller then
/// decides the request itself.
pub(crate) fn rebase_trust(
    d: &Decision,
    (from, from_at): (&Policy, &[crate::source::Span]),
    (to, to_at): (&Policy, &[crate::source::Span]),
) -> Option<Decision> {
    let (a, b) = (&from.document.statements, &to.document.statements);
    if from_at.len() != to_at.len() || a.len() != b.len() || from.id.is_none() {
        return None;
    }
    let moved = |span: crate::source::Span| -> Option<crate::source::Span> {
        from_at.iter().position(|&x| x == span).map(|k| to_at[k])
    };
    let mut out = d.clone();
    for because in &mut out.because {
        if because.layer != eval::Layer::Resource || because.policy_id != from.id {
            continue;
        }
        let k = usize::try_from(because.statement_index).ok()?;
        if a.get(k).map(|s| s.span) != Some(because.statement) {
            return None;
        }
        because.policy = to.address.clone();
        because.policy_id = to.id;
        because.sid = b[k].sid.clone();
        because.statement = b[k].span;
        if let Some(action) = because.action {
            because.action = Some(moved(action)?);
        }
    }
    for open in &mut out.open {
        let (eval::Open::Condition { span, .. } | eval::Open::Unknown { span, .. }) = open;
        if let Some(to_span) = moved(*span) {
            *span = to_span;
        }
    }
    Some(out)
}

/// An IAM request on an IAM resource (roles, users, groups and policies have no resource
/// policies: the identity side decides, with boundary and SCPs).
pub fn request(
    layers: &Layers<'_>,
    action: &str,
    resource: &Template,
    caller_arn: &Template,
    ctx: &Context,
) -> Decision {
    eval::decide(layers, &[], &Request::on(action, resource, Some(caller_arn), ctx))
}

/// Whether some readable identity Allow might cover one of `actions`: callers for whom
/// asking can give anything but `not_allowed`. Policies that cannot be read are not
/// followed here (they would make every principal a conditional step to everything); the
/// requests that are asked still count them.
pub(crate) fn may_allow(layers: &Layers<'_>, actions: &[&str]) -> bool {
    layers.identity.iter().any(|p| {
        p.document
            .statements
            .iter()
            .any(|s| s.effect == Effect::Allow && eval::statement_concerns(s, actions))
    })
}

/// The resource patterns of the readable identity Allows that might cover `action` (`*`
/// for a `NotResource` or an unreadable resource): where the caller's requests can land.
pub(crate) fn allow_resource_patterns(layers: &Layers<'_>, action: &str) -> Vec<Template> {
    let star = || Template::lit("*");
    let mut out = Vec::new();
    for p in &layers.identity {
        for s in &p.document.statements {
            if s.effect != Effect::Allow || !eval::statement_concerns(s, &[action]) {
                continue;
            }
            match &s.resources {
                Which::Listed(pats) => out.extend(pats.iter().map(|p| p.text.clone())),
                _ => out.push(star()),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The resource patterns of every statement, in every layer, that may match `action`
/// (Allow and Deny; `NotResource` lists too), each once: a request's outcome on two
/// resources can differ only where one of these matches them differently. A statement
/// whose resources cannot be read adds nothing (it reads alike for every resource).
pub(crate) fn layer_patterns<'a>(layers: &Layers<'a>, action: &str) -> Vec<&'a crate::iam::policy::Pat> {
    let mut out: Vec<&crate::iam::policy::Pat> = Vec::new();
    let policies = layers
        .identity
        .iter()
        .chain(layers.boundary.iter())
        .chain(layers.session.iter())
        .chain(layers.scps.iter().flatten());
    for p in policies {
        for s in &p.document.statements {
            if !eval::statement_concerns(s, &[action]) {
                continue;
            }
            if let Which::Listed(pats) | Which::Not(pats, _) = &s.resources {
                for pat in pats {
                    if !out.iter().any(|q| q.text == pat.text) {
                        out.push(pat);
                    }
                }
            }
        }
    }
    out
}

/// How each pattern matches a resource (tokens of its ARN), as one comparable signature.
pub(crate) fn signature(patterns: &[&crate::iam::policy::Pat], resource: &[crate::iam::pattern::Tok]) -> Vec<Tri> {
    patterns.iter().map(|p| p.compiled().matches(resource)).collect()
}

/// Where a caller's requests for `action` on IAM resources (which have no resource
/// policies) can be anything but refused: the resource patterns of its readable identity
/// Allows that may cover `action`, or `None` when one may land anywhere (a `NotResource`,
/// an unreadable resource element, an identity policy that cannot be read). A request that
/// lands on none ([`may_land`]) would be `not_allowed` or `denied`, so it need not be
/// asked. Worked out once per caller and action, then matched against each resource.
pub(crate) fn allow_landing<'a>(layers: &Layers<'a>, action: &str) -> Option<Vec<&'a crate::iam::policy::Pat>> {
    if !layers.unknown_identity.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for p in &layers.identity {
        if p.document.unknown.is_some() {
            return None;
        }
        for s in &p.document.statements {
            if s.effect != Effect::Allow || !eval::statement_concerns(s, &[action]) {
                continue;
            }
            match &s.resources {
                Which::Listed(pats) => out.extend(pats.iter()),
                _ => return None,
            }
        }
    }
    Some(out)
}

/// Whether a request on `resource` can land where [`allow_landing`] says.
pub(crate) fn may_land(landing: Option<&[&crate::iam::policy::Pat]>, resource: &[crate::iam::pattern::Tok]) -> bool {
    landing.is_none_or(|pats| {
        pats.iter()
            .any(|p| p.has_variables() || p.compiled().matches(resource) != Tri::No)
    })
}

/// Whether some statement of `layers` that may concern `action` names its resources with a
/// policy variable (`${aws:username}`): where such a pattern lands depends on the caller, so
/// it is not matched as text against candidate resources ([`may_land`] takes it to land
/// anywhere, and reach decides each (caller, resource) on its own).
pub(crate) fn varies_by_caller(layers: &Layers<'_>, action: &str) -> bool {
    layer_patterns(layers, action).iter().any(|p| p.has_variables())
}

/// Whether a statement's resources might include an IAM resource (a `NotResource`, an
/// unreadable or absent element, or a listed pattern that [`may_name_iam`]).
pub(crate) fn statement_may_name_iam(s: &crate::iam::policy::Statement) -> bool {
    match &s.resources {
        Which::Listed(pats) => pats.iter().any(|p| may_name_iam(&p.text)),
        _ => true,
    }
}

/// Whether a resource pattern might name an IAM resource (a role, user, group or policy):
/// a pattern whose service segment is some other service's never does, so it need not be
/// matched against every role.
pub(crate) fn may_name_iam(pattern: &Template) -> bool {
    match crate::iam::arn::service_segment(pattern)
        .as_ref()
        .and_then(Template::as_literal)
    {
        Some(service) if !service.contains(['*', '?']) => service == "iam",
        _ => true,
    }
}

/// Whether a resource pattern might match an ARN.
pub(crate) fn pattern_may_match(pattern: &Template, arn: &Template) -> bool {
    match_resource(pattern, &text_tokens(arn)) != Tri::No
}

/// Whether a trust policy's Allows reach callers it does not name by ARN (an account root,
/// `*`, an unreadable principal, a `NotPrincipal`): those callers need an identity Allow,
/// so any caller whose policies allow `sts:AssumeRole` is worth asking.
pub(crate) fn trust_delegates(trust: &Policy) -> bool {
    trust.document.unknown.is_some()
        || trust.document.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && (s.not_principal
                    || match &s.principal {
                        Some(Principals::Listed(list)) => list.iter().any(|(kind, pat)| {
                            kind == "AWS"
                                && !matches!(Caller::parse(&pat.text).kind, CallerKind::User | CallerKind::Role)
                        }),
                        Some(_) => true,
                        None => false,
                    })
        })
}

/// The role and user ARNs that a trust policy's Allows name as `AWS` principals, with
/// whether each is a role.
pub(crate) fn trusted_arns(trust: &Policy) -> Vec<(&Template, bool)> {
    let mut out = Vec::new();
    for s in &trust.document.statements {
        if s.effect != Effect::Allow || s.not_principal {
            continue;
        }
        if let Some(Principals::Listed(list)) = &s.principal {
            for (kind, pat) in list {
                if kind != "AWS" {
                    continue;
                }
                match Caller::parse(&pat.text).kind {
                    CallerKind::Role => out.push((&pat.text, true)),
                    CallerKind::User => out.push((&pat.text, false)),
                    _ => {}
                }
            }
        }
    }
    out
}

/// The name segment of a role or user ARN (after its last `/`), when literal.
pub(crate) fn arn_name(arn: &Template) -> Option<String> {
    Caller::parse(arn).name.and_then(|n| n.as_literal().map(str::to_string))
}

/// Steps combine like requirements: the worse outcome.
pub(crate) fn worse(a: Outcome, b: Outcome) -> Outcome {
    if a.rank() >= b.rank() { a } else { b }
}

/// How good an outcome is for a reach comparison: allowed > conditional > the rest.
pub(crate) fn goodness(o: Outcome) -> u8 {
    match o {
        Outcome::Allowed => 2,
        Outcome::Conditional => 1,
        Outcome::NotAllowed | Outcome::Denied => 0,
    }
}

/// The best of several alternative decisions (any one suffices), by [`goodness`], the
/// first on a tie.
pub fn best(decisions: Vec<Decision>) -> Option<Decision> {
    let mut out: Option<Decision> = None;
    for d in decisions {
        if out.as_ref().is_none_or(|b| goodness(d.outcome) > goodness(b.outcome)) {
            out = Some(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::eval::policy_from_json as policy;
    use crate::source::Span;

    #[test]
    fn allows_land_where_their_resources_say_or_anywhere() {
        let ops = crate::iam::pattern::text_tokens(&Template::lit("arn:aws:iam::1:group/ops"));
        let dev = crate::iam::pattern::text_tokens(&Template::lit("arn:aws:iam::1:group/dev"));
        let listed = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:AddUserToGroup","Resource":"arn:aws:iam::*:group/op*"},
                {"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        );
        let layers = Layers {
            identity: vec![&listed],
            ..Layers::default()
        };
        let landing = allow_landing(&layers, ADD_USER_TO_GROUP);
        assert_eq!(landing.as_ref().map(Vec::len), Some(1), "only the Allow of the action");
        assert!(may_land(landing.as_deref(), &ops));
        assert!(!may_land(landing.as_deref(), &dev));
        // No Allow of the action: nowhere.
        assert!(!may_land(allow_landing(&layers, ASSUME_ROLE).as_deref(), &ops));
        // A NotResource, or a document that cannot be read: anywhere.
        let not =
            policy(r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","NotResource":"arn:aws:iam::1:group/ops"}]}"#);
        let unknown = Policy::new(
            "u",
            crate::iam::policy::Document {
                unknown: Some(("var.doc".into(), Span::builtin())),
                ..crate::iam::policy::Document::default()
            },
        );
        for p in [&not, &unknown] {
            let l = Layers {
                identity: vec![&listed, p],
                ..Layers::default()
            };
            assert!(allow_landing(&l, ADD_USER_TO_GROUP).is_none());
            assert!(may_land(None, &dev));
        }
    }
}
