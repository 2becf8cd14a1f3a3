//! Whether a KMS key policy lets a service role use the key: either an Allow for the action
//! names the role (or its service), anyone, or the account — the account delegating to IAM,
//! so that the role's own identity policies decide.

use crate::iam::pattern::{Tok, Tri, match_action, match_resource, text_tokens};
use crate::iam::policy::{Document, Effect, Principals, Statement, Which};
use crate::value::Template;

/// The caller a key policy is asked about: a service-linked role, by its ARN and by the
/// service principals that act as it.
pub(crate) struct ServiceCaller<'a> {
    pub role_arn: &'a Template,
    pub services: &'a [&'a str],
}

/// Whether some Allow statement of `doc` covering `action` names the account (its root or
/// id), anyone, the caller's role, or one of its services. A principal that is not
/// resolved counts as admitting (the decision is not ours to deny).
pub(crate) fn admits(doc: &Document, action: &str, caller: &ServiceCaller<'_>) -> bool {
    let role = text_tokens(caller.role_arn);
    doc.statements
        .iter()
        .any(|s| s.effect == Effect::Allow && covers_action(s, action) && admits_principal(s, &role, caller))
}

fn covers_action(s: &Statement, action: &str) -> bool {
    match &s.actions {
        Which::Listed(p) => p.iter().any(|p| match_action(&p.text, action) != Tri::No),
        Which::Not(p, _) => p.iter().all(|p| match_action(&p.text, action) == Tri::No),
        Which::Unknown(..) => true,
        Which::Absent => false,
    }
}

fn admits_principal(s: &Statement, role: &[Tok], caller: &ServiceCaller<'_>) -> bool {
    match &s.principal {
        None | Some(Principals::Anyone(_)) | Some(Principals::Unknown(..)) => true,
        Some(Principals::Listed(list)) => list.iter().any(|(kind, pat)| {
            let text = pat.text.to_string();
            match kind.as_str() {
                "AWS" => {
                    text.ends_with(":root")
                        || (text.len() == 12 && text.chars().all(|c| c.is_ascii_digit()))
                        || !pat.text.is_literal() && pat.text.opaques().next().is_some()
                        || match_resource(&pat.text, role) != Tri::No
                        || pat.text == Template::lit("*")
                }
                "Service" => caller.services.contains(&text.as_str()),
                _ => false,
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::source::FileId;

    fn admits_text(text: &str) -> bool {
        let v = json::parse(text, FileId::for_path("key.json"), 0).unwrap_or_else(|e| unreachable!("{e:?}"));
        let role = Template::lit("arn:aws:iam::111122223333:role/aws-service-role/svc/Replication");
        let caller = ServiceCaller {
            role_arn: &role,
            services: &["replication.example.amazonaws.com"],
        };
        admits(&crate::iam::policy::parse(&v).0, "kms:GenerateDataKey", &caller)
    }

    #[test]
    fn the_account_root_the_role_or_its_service_admit() {
        let stmt = |principal: &str| {
            format!(r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"kms:*","Resource":"*"}}]}}"#)
        };
        assert!(admits_text(&stmt(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#)));
        assert!(admits_text(&stmt(r#"{"AWS":"111122223333"}"#)));
        assert!(admits_text(&stmt(
            r#"{"AWS":"arn:aws:iam::111122223333:role/aws-service-role/svc/*"}"#
        )));
        assert!(admits_text(&stmt(r#"{"Service":"replication.example.amazonaws.com"}"#)));
        assert!(admits_text(&stmt(r#""*""#)));
        assert!(!admits_text(&stmt(r#"{"AWS":"arn:aws:iam::111122223333:role/app"}"#)));
        assert!(!admits_text(&stmt(r#"{"Service":"lambda.amazonaws.com"}"#)));
    }

    #[test]
    fn the_action_must_be_covered_and_denies_do_not_admit() {
        let root = r#"{"AWS":"arn:aws:iam::111122223333:root"}"#;
        let with = |effect: &str, actions: &str| {
            format!(r#"{{"Statement":[{{"Effect":"{effect}","Principal":{root},{actions},"Resource":"*"}}]}}"#)
        };
        assert!(!admits_text(&with("Allow", r#""Action":"kms:Decrypt""#)));
        assert!(admits_text(&with("Allow", r#""NotAction":"kms:Decrypt""#)));
        assert!(!admits_text(&with("Allow", r#""NotAction":"kms:Generate*""#)));
        assert!(!admits_text(&with("Deny", r#""Action":"kms:*""#)));
    }
}
