//! The caller of a request, read from its ARN (or service / federated / canonical id):
//! what kind of principal it is, its account, the role behind a session, and the
//! condition keys AWS derives from it.

use crate::iam::context::Context;
use crate::iam::pattern::{Mode, Tri, match_resource, match_string, text_tokens};
use crate::iam::policy::{Pat, Principals};
use crate::value::{Part, Symbol, Template};

/// What kind of principal makes the request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CallerKind {
    User,
    /// An IAM role given by its role ARN (its sessions are meant).
    Role,
    /// An assumed-role session (`arn:aws:sts::A:assumed-role/R/S`).
    Session,
    /// The account root user.
    Root,
    FederatedUser,
    Service,
    /// A web identity or SAML provider.
    Federated,
    CanonicalUser,
    Other,
}

/// The caller, parsed.
#[derive(Clone, Debug)]
pub struct Caller {
    pub arn: Template,
    pub kind: CallerKind,
    /// The account segment, when the caller is an ARN.
    pub account: Option<Template>,
    /// For a session, the role's ARN (without its path, which a session ARN does not show).
    pub role_arn: Option<Template>,
    /// The user's or role's name.
    pub name: Option<Template>,
    /// The account segment's tokens (empty without one), for comparing with principals.
    account_tokens: Vec<crate::iam::pattern::Tok>,
}

/// How a resource policy's `Principal` reaches the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PrincipalMatch {
    /// Names the caller itself (user ARN, session ARN, `*`, service, provider).
    pub direct: Tri,
    /// Names the role behind the caller (a role ARN).
    pub role: Tri,
    /// Names the caller's account (12 digits or `:root`): delegates to its policies.
    pub account: Tri,
}

impl PrincipalMatch {
    /// Whether the statement applies to the caller at all.
    pub fn any(&self) -> Tri {
        self.direct.or(self.role).or(self.account)
    }
}

/// Literal text at the start of a template.
fn lit_prefix(t: &Template) -> &str {
    match t.parts().first() {
        Some(Part::Lit(s)) => s,
        _ => "",
    }
}

/// The account id of an account principal (`123456789012`, `arn:…:iam::123456789012:root`).
fn account_of_account_principal(p: &Template) -> Option<Template> {
    if let Some(s) = p.as_literal()
        && s.len() == 12
        && s.chars().all(|c| c.is_ascii_digit())
    {
        return Some(p.clone());
    }
    if matches!(p.parts(), [Part::Sym(Symbol::Account)]) {
        return Some(p.clone());
    }
    let arn = crate::iam::arn::parse(p)?;
    (arn.service.as_literal() == Some("iam") && arn.resource.as_literal() == Some("root")).then_some(arn.account)
}

impl Caller {
    /// Reads a caller.
    pub fn parse(arn: &Template) -> Caller {
        let mut c = Caller {
            arn: arn.clone(),
            kind: CallerKind::Other,
            account: None,
            role_arn: None,
            name: None,
            account_tokens: Vec::new(),
        };
        if let Some(crate::iam::arn::Parts {
            partition,
            service,
            account,
            resource: res,
            ..
        }) = &crate::iam::arn::parse(arn)
        {
            c.account = Some(account.clone());
            c.account_tokens = text_tokens(account);
            let service = service.as_literal().unwrap_or("");
            let head = lit_prefix(res);
            let last_name = || crate::iam::arn::split(res, '/', usize::MAX).pop();
            match service {
                "iam" if res.as_literal() == Some("root") => c.kind = CallerKind::Root,
                "iam" if head.starts_with("user/") => {
                    c.kind = CallerKind::User;
                    c.name = last_name();
                }
                "iam" if head.starts_with("role/") => {
                    c.kind = CallerKind::Role;
                    c.name = last_name();
                    c.role_arn = Some(arn.clone());
                }
                "iam" if head.starts_with("saml-provider/") || head.starts_with("oidc-provider/") => {
                    c.kind = CallerKind::Federated;
                }
                "sts" if head.starts_with("assumed-role/") => {
                    c.kind = CallerKind::Session;
                    let parts = crate::iam::arn::split(res, '/', 3);
                    if let Some(role) = parts.get(1) {
                        use crate::iam::arn::{Segment, head};
                        let mut r = head(Segment::Of(partition), "iam", Segment::Empty, Segment::Of(account));
                        r.push_str("role/");
                        r.push_template(role);
                        c.role_arn = Some(r);
                        c.name = Some(role.clone());
                    }
                }
                "sts" if head.starts_with("federated-user/") => {
                    c.kind = CallerKind::FederatedUser;
                    c.name = last_name();
                }
                _ => {}
            }
            return c;
        }
        if let Some(s) = arn.as_literal() {
            c.kind = if FEDERATED_PROVIDERS.contains(&s) {
                CallerKind::Federated
            } else if s.ends_with(".amazonaws.com") || s.ends_with(".amazonaws.com.cn") {
                CallerKind::Service
            } else if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
                CallerKind::CanonicalUser
            } else {
                CallerKind::Other
            };
        }
        c
    }

    /// Whether the caller is a service-linked role (SCPs do not apply to it).
    pub(crate) fn is_service_linked_role(&self) -> bool {
        let arn = self.role_arn.as_ref().unwrap_or(&self.arn);
        arn.parts()
            .iter()
            .any(|p| matches!(p, Part::Lit(s) if s.contains(":role/aws-service-role/")))
    }

    /// `aws:PrincipalType` as AWS sets it.
    pub(crate) fn principal_type(&self) -> Option<&'static str> {
        match self.kind {
            CallerKind::User => Some("User"),
            CallerKind::Role | CallerKind::Session => Some("AssumedRole"),
            CallerKind::Root => Some("Account"),
            CallerKind::FederatedUser => Some("FederatedUser"),
            _ => None,
        }
    }

    /// Fills the principal-derived keys (`aws:PrincipalArn`, `aws:PrincipalAccount`,
    /// `aws:username` for users, `aws:PrincipalType`) that the context does not already
    /// decide. `aws:username` is absent for every caller but an IAM user.
    pub(crate) fn fill_context(&self, ctx: &mut Context) {
        if self.kind == CallerKind::Service || self.kind == CallerKind::Federated {
            return;
        }
        let mut set = |key: &str, v: Template| {
            if !ctx.is_decided(key) {
                ctx.set(key, vec![v]);
            }
        };
        let principal_arn = match self.kind {
            CallerKind::Session => self.role_arn.clone().unwrap_or_else(|| self.arn.clone()),
            _ => self.arn.clone(),
        };
        set("aws:PrincipalArn", principal_arn);
        if let Some(a) = &self.account {
            set("aws:PrincipalAccount", a.clone());
        }
        if let Some(t) = self.principal_type() {
            set("aws:PrincipalType", Template::lit(t));
        }
        match (self.kind, &self.name) {
            (CallerKind::User, Some(n)) => set("aws:username", n.clone()),
            _ => ctx.set_absent("aws:username"),
        }
    }

    /// Whether a resource account is the caller's (`Maybe` when either is unresolved).
    pub(crate) fn same_account(&self, resource_account: &Template) -> Tri {
        let Some(mine) = &self.account else {
            return Tri::Yes;
        };
        if mine == resource_account {
            return Tri::Yes;
        }
        // An unpinned account symbol stands for whatever account a policy names.
        match_string(mine, resource_account, Mode::Exact, None)
            .0
            .or(match_string(resource_account, mine, Mode::Exact, None).0)
    }

    /// How one `Principal` element reaches this caller.
    pub fn matches(&self, p: &Principals) -> PrincipalMatch {
        let mut m = PrincipalMatch::default();
        match p {
            Principals::Anyone(_) => m.direct = Tri::Yes,
            Principals::Unknown(..) => m.direct = Tri::Maybe,
            Principals::Listed(list) => {
                for (kind, pat) in list {
                    self.match_one(kind, pat, &mut m);
                }
            }
        }
        m
    }

    fn match_one(&self, kind: &str, pat: &Pat, m: &mut PrincipalMatch) {
        match kind {
            "AWS"
                if !matches!(
                    self.kind,
                    CallerKind::Service | CallerKind::Federated | CallerKind::CanonicalUser
                ) =>
            {
                if let Some(account) = pat.principal_account(account_of_account_principal) {
                    if let Some(mine) = &self.account {
                        m.account = m.account.or(account.matches(mine, &self.account_tokens));
                    }
                    return;
                }
                let exact = arn_equal(&pat.text, &self.arn);
                match self.kind {
                    CallerKind::Role => m.role = m.role.or(exact),
                    _ => m.direct = m.direct.or(exact),
                }
                if self.kind == CallerKind::Session
                    && let Some(role) = &self.role_arn
                {
                    m.role = m.role.or(role_named(&pat.text, role));
                }
            }
            "Service" | "Federated" | "CanonicalUser" => {
                let wanted = match kind {
                    "Service" => CallerKind::Service,
                    "Federated" => CallerKind::Federated,
                    _ => CallerKind::CanonicalUser,
                };
                if self.kind == wanted {
                    let mode = if kind == "CanonicalUser" {
                        Mode::Exact
                    } else {
                        Mode::IgnoreCase
                    };
                    m.direct = m.direct.or(match_string(&pat.text, &self.arn, mode, None).0);
                }
            }
            _ => {}
        }
    }
}

/// Identity providers that appear as `Federated` principals without an ARN.
const FEDERATED_PROVIDERS: &[&str] = &[
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
];

/// A principal ARN equals the caller's (principal ARNs take no wildcards, but symbols match
/// as in resources).
fn arn_equal(pattern: &Template, caller: &Template) -> Tri {
    if pattern
        .parts()
        .iter()
        .any(|p| matches!(p, Part::Lit(s) if s.contains(['*', '?'])))
    {
        // AWS rejects wildcards inside principal ARNs: a `*` there is only itself.
        return match_string(pattern, caller, Mode::Exact, None).0;
    }
    match_resource(pattern, &text_tokens(caller))
}

/// A role ARN pattern names the session's role: same partition/account and the same role
/// name (the session ARN does not show the role's path).
fn role_named(pattern: &Template, role: &Template) -> Tri {
    use crate::iam::arn::{Parts, parse, split};
    let (Some(p), Some(r)) = (parse(pattern), parse(role)) else {
        return Tri::No;
    };
    if !lit_prefix(&p.resource).starts_with("role/") {
        return Tri::No;
    }
    // The ARN with the role's path left out: `arn:…:role/<name>`.
    let without_path = |a: &Parts| {
        let mut t = Template::lit("arn:");
        for seg in [&a.partition, &a.service, &a.region, &a.account] {
            t.push_template(seg);
            t.push_str(":");
        }
        t.push_str("role/");
        t.push_template(&split(&a.resource, '/', usize::MAX).pop().unwrap_or_default());
        t
    };
    match_resource(&without_path(&p), &text_tokens(&without_path(&r)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn pat(s: &str) -> Pat {
        Pat::new(Template::lit(s), Span::builtin())
    }

    #[test]
    fn callers_are_classified() {
        let c = Caller::parse(&Template::lit("arn:aws:sts::111122223333:assumed-role/app/sess"));
        assert_eq!(c.kind, CallerKind::Session);
        assert_eq!(
            c.role_arn.map(|r| r.to_string()),
            Some("arn:aws:iam::111122223333:role/app".into())
        );
        let c = Caller::parse(&Template::lit("arn:aws:iam::111122223333:user/ops/alice"));
        assert_eq!(
            (c.kind, c.name.map(|n| n.to_string())),
            (CallerKind::User, Some("alice".into()))
        );
        assert_eq!(
            Caller::parse(&Template::lit("lambda.amazonaws.com")).kind,
            CallerKind::Service
        );
        assert_eq!(
            Caller::parse(&Template::lit("cognito-identity.amazonaws.com")).kind,
            CallerKind::Federated
        );
        let slr = Caller::parse(&Template::lit(
            "arn:aws:iam::1:role/aws-service-role/kinesisreplication.dynamodb.amazonaws.com/X",
        ));
        assert!(slr.is_service_linked_role());
    }

    #[test]
    fn principals_match_directly_through_the_role_or_the_account() {
        let c = Caller::parse(&Template::lit("arn:aws:sts::111122223333:assumed-role/app/sess"));
        let listed = |k: &str, v: &str| Principals::Listed(vec![(k.to_string(), pat(v))]);
        let m = c.matches(&listed("AWS", "arn:aws:iam::111122223333:role/team/app"));
        assert_eq!((m.direct, m.role, m.account), (Tri::No, Tri::Yes, Tri::No));
        let m = c.matches(&listed("AWS", "arn:aws:sts::111122223333:assumed-role/app/sess"));
        assert_eq!(m.direct, Tri::Yes);
        let m = c.matches(&listed("AWS", "111122223333"));
        assert_eq!(m.account, Tri::Yes);
        let m = c.matches(&listed("AWS", "arn:aws:iam::444455556666:root"));
        assert_eq!(m.any(), Tri::No);
        let svc = Caller::parse(&Template::lit("lambda.amazonaws.com"));
        assert_eq!(svc.matches(&listed("Service", "lambda.amazonaws.com")).direct, Tri::Yes);
        assert_eq!(svc.matches(&listed("AWS", "lambda.amazonaws.com")).direct, Tri::No);
    }
}
