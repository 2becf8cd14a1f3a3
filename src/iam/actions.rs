//! Action names checked against the catalogue: which patterns of a parsed policy name an
//! action that does not exist in a catalogued service.

use crate::catalog::{CATALOGUED_SERVICES, action_info, nearest_action};
use crate::iam::policy::{Document, Pat, Which};

/// A literal action of a catalogued service that the service does not have.
pub struct UnknownAction<'a> {
    pub pat: &'a Pat,
    pub action: &'a str,
    /// The service prefix, lower-cased.
    pub service: String,
    /// The nearest real action, if one is close.
    pub nearest: Option<String>,
}

/// The unknown actions `Action`/`NotAction` of `doc` name, in source order. Wildcards,
/// unresolved names, built-in documents and services outside the catalogue are not judged.
pub fn unknown_actions(doc: &Document) -> Vec<UnknownAction<'_>> {
    let mut out = Vec::new();
    for s in &doc.statements {
        let (Which::Listed(pats) | Which::Not(pats, _)) = &s.actions else {
            continue;
        };
        for pat in pats {
            let Some(action) = pat.text.as_literal() else { continue };
            if action.contains(['*', '?']) || pat.span.is_builtin() {
                continue;
            }
            let Some((service, _)) = action.split_once(':') else {
                continue;
            };
            let service = service.to_ascii_lowercase();
            if !CATALOGUED_SERVICES.contains(&service.as_str()) || action_info(action).is_some() {
                continue;
            }
            out.push(UnknownAction {
                pat,
                action,
                service,
                nearest: nearest_action(action),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::json;
    use crate::source::FileId;

    #[test]
    fn misspelled_catalogued_actions_are_found_with_the_nearest_name() {
        let text = r#"{"Statement":[{"Effect":"Allow","Action":["dynamodb:DisableKinesisStreamingDestinaton","dynamodb:Describe*","s3:NoSuchThing","kinesis:PutRecords"],"Resource":"*"},{"Effect":"Deny","NotAction":"IAM:DeleteServiceLinkedRoles","Resource":"*"}]}"#;
        let v = json::parse(text, FileId::for_path("p.json"), 0).unwrap_or_else(|e| unreachable!("{e:?}"));
        let doc = crate::iam::policy::parse(&v).0;
        let found: Vec<(&str, String, Option<String>)> = unknown_actions(&doc)
            .into_iter()
            .map(|u| (u.action, u.service, u.nearest))
            .collect();
        assert_eq!(found.len(), 2, "{:?}", found.iter().map(|f| f.0).collect::<Vec<_>>());
        assert_eq!(found[0].0, "dynamodb:DisableKinesisStreamingDestinaton");
        assert_eq!(found[0].1, "dynamodb");
        assert_eq!(
            found[0].2.as_deref(),
            Some("dynamodb:DisableKinesisStreamingDestination")
        );
        assert_eq!(found[1].1, "iam");
    }
}
