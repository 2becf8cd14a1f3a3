//! The action catalogue of the services replication involves (`rules/actions/<service>.toml`,
//! compiled in; condition keys read it), and action names checked against it: which
//! patterns of a parsed policy name an action that does not exist in a catalogued service.
//!
//! The catalogue is parsed once per process (a `OnceLock`); a unit test checks that the
//! files parse, so a broken data file fails the build's tests rather than a user's run.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::iam::policy::{Document, Pat, Which};

/// The action catalogue: (service prefix, data file).
const ACTION_FILES: &[(&str, &str)] = &[
    ("dynamodb", include_str!("../../rules/actions/dynamodb.toml")),
    ("iam", include_str!("../../rules/actions/iam.toml")),
    ("kinesis", include_str!("../../rules/actions/kinesis.toml")),
    ("kms", include_str!("../../rules/actions/kms.toml")),
];

/// What the bundled action catalogue knows of one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionInfo {
    /// Canonical spelling, e.g. `dynamodb:EnableKinesisStreamingDestination`.
    pub name: String,
    /// Resource types the action can be scoped to (empty: only `*`).
    pub resource_types: Vec<String>,
    /// Condition keys the action can carry (service-specific ones; global `aws:` keys are
    /// not listed here).
    pub condition_keys: Vec<String>,
}

/// The services whose actions the catalogue lists completely.
pub const CATALOGUED_SERVICES: &[&str] = &["dynamodb", "kinesis", "iam", "kms"];

/// Looks up an action (case-insensitive). `None` when the service is catalogued and the
/// action does not exist, or when the service is not catalogued (check
/// [`CATALOGUED_SERVICES`] to tell the two apart).
pub fn action_info(action: &str) -> Option<ActionInfo> {
    let (service, name) = split_action(action)?;
    let svc = action_catalog().services.get(&service)?;
    svc.by_lower
        .get(&name.to_ascii_lowercase())
        .and_then(|&i| svc.actions.get(i))
        .map(|a| a.info.clone())
}

/// The catalogued action nearest in spelling to `action` (for "did you mean" help).
///
/// Only actions of the same (catalogued) service are considered, only when the spelling is
/// close (a few edits, scaled to the name's length), and never for a pattern with `*` or
/// `?`. An action that exists (in any letter case) gets its canonical spelling back. Ties
/// go to the alphabetically first name, so the answer does not depend on data order.
pub fn nearest_action(action: &str) -> Option<String> {
    if action.contains(['*', '?']) {
        return None;
    }
    let (service, name) = split_action(action)?;
    let svc = action_catalog().services.get(&service)?;
    let wanted = name.to_ascii_lowercase();
    if let Some(a) = svc.by_lower.get(&wanted).and_then(|&i| svc.actions.get(i)) {
        return Some(a.info.name.clone());
    }
    let limit = typo_limit(wanted.chars().count());
    let mut best: Option<(usize, &str)> = None;
    for a in &svc.actions {
        let Some(d) = edit_distance(&wanted, &a.lower, limit) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((bd, bn)) => d < bd || (d == bd && a.info.name.as_str() < bn),
        };
        if better {
            best = Some((d, a.info.name.as_str()));
        }
    }
    best.map(|(_, n)| n.to_string())
}

/// The canonical names of every catalogued action of `service` (empty when the service is
/// not catalogued), sorted.
pub fn catalogued_actions(service: &str) -> Vec<String> {
    action_catalog()
        .services
        .get(&service.to_ascii_lowercase())
        .map(|s| s.actions.iter().map(|a| a.info.name.clone()).collect())
        .unwrap_or_default()
}

/// Whether the catalogue's data file for `service` says its list of actions is complete
/// (the services of [`CATALOGUED_SERVICES`] are; a test keeps the two in step).
#[cfg(test)]
pub(crate) fn service_is_complete(service: &str) -> bool {
    action_catalog()
        .services
        .get(&service.to_ascii_lowercase())
        .is_some_and(|s| s.complete)
}

/// A literal action of a catalogued service that the service does not have.
pub(crate) struct UnknownAction<'a> {
    pub(crate) pat: &'a Pat,
    pub action: &'a str,
    /// The service prefix, lower-cased.
    pub service: String,
    /// The nearest real action, if one is close.
    pub nearest: Option<String>,
}

/// The unknown actions `Action`/`NotAction` of `doc` name, in source order. Wildcards,
/// unresolved names, built-in documents and services outside the catalogue are not judged.
pub(crate) fn unknown_actions(doc: &Document) -> Vec<UnknownAction<'_>> {
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

// ---------------------------------------------------------------------------------------
// Helpers.

/// One `[[action]]` of a `rules/actions/<service>.toml` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionRow {
    name: String,
    #[allow(dead_code, reason = "declared so that deny_unknown_fields checks the whole row")]
    access: String,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    conditions: Vec<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "declared so that deny_unknown_fields checks the whole row")]
    dependent: Vec<String>,
}

/// A `rules/actions/<service>.toml` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    service: String,
    #[allow(dead_code, reason = "provenance for people; checked to be present")]
    source: String,
    #[allow(dead_code, reason = "provenance for people; checked to be present")]
    date: String,
    complete: bool,
    #[serde(rename = "action")]
    actions: Vec<ActionRow>,
}

struct CatalogAction {
    info: ActionInfo,
    /// The name without the service prefix, lower case (what lookups compare).
    lower: String,
}

struct ServiceCatalog {
    /// Read only by the test that keeps the data and [`CATALOGUED_SERVICES`] in step.
    #[cfg_attr(not(test), allow(dead_code))]
    complete: bool,
    /// Sorted by canonical name.
    actions: Vec<CatalogAction>,
    by_lower: BTreeMap<String, usize>,
}

#[derive(Default)]
struct ActionCatalog {
    services: BTreeMap<String, ServiceCatalog>,
    /// Problems with the data files (a test asserts there are none).
    errors: Vec<String>,
}

fn action_catalog() -> &'static ActionCatalog {
    static CATALOG: OnceLock<ActionCatalog> = OnceLock::new();
    CATALOG.get_or_init(load_action_catalog)
}

fn load_action_catalog() -> ActionCatalog {
    let mut cat = ActionCatalog::default();
    for (service, text) in ACTION_FILES {
        let file: ServiceFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                cat.errors.push(format!("rules/actions/{service}.toml: {e}"));
                continue;
            }
        };
        if file.service != *service {
            cat.errors.push(format!(
                "rules/actions/{service}.toml: says it is about `{}`",
                file.service
            ));
            continue;
        }
        let mut actions: Vec<CatalogAction> = file
            .actions
            .into_iter()
            .map(|row| CatalogAction {
                lower: row.name.to_ascii_lowercase(),
                info: ActionInfo {
                    name: format!("{service}:{}", row.name),
                    resource_types: row
                        .resources
                        .iter()
                        .map(|r| r.trim_end_matches('*').to_string())
                        .collect(),
                    condition_keys: row
                        .conditions
                        .into_iter()
                        .filter(|k| !k.to_ascii_lowercase().starts_with("aws:"))
                        .collect(),
                },
            })
            .collect();
        actions.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        let mut by_lower = BTreeMap::new();
        for (i, a) in actions.iter().enumerate() {
            if by_lower.insert(a.lower.clone(), i).is_some() {
                cat.errors.push(format!(
                    "rules/actions/{service}.toml: `{}` is listed twice",
                    a.info.name
                ));
            }
        }
        cat.services.insert(
            (*service).to_string(),
            ServiceCatalog {
                complete: file.complete,
                actions,
                by_lower,
            },
        );
    }
    cat
}

/// `service:Name` → (lower-case service, name). `None` without a colon or with an empty part.
fn split_action(action: &str) -> Option<(String, &str)> {
    let (service, name) = action.trim().split_once(':')?;
    if service.is_empty() || name.is_empty() {
        return None;
    }
    Some((service.to_ascii_lowercase(), name))
}

/// How many edits still count as a typo of a name of `len` characters: about one in five,
/// at least one, at most four.
fn typo_limit(len: usize) -> usize {
    (len / 5).clamp(1, 4)
}

/// Optimal-string-alignment distance (insertions, deletions, substitutions and swaps of
/// two neighbours each cost one, `strsim::osa_distance`, as the config's and the queries'
/// suggestions use `strsim`), or `None` when it exceeds `limit`.
fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    if a.chars().count().abs_diff(b.chars().count()) > limit {
        return None;
    }
    Some(strsim::osa_distance(a, b)).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
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

    #[test]
    fn action_data_files_load_cleanly() {
        let cat = action_catalog();
        assert!(cat.errors.is_empty(), "{:?}", cat.errors);
        for (service, text) in ACTION_FILES {
            let file: ServiceFile = toml::from_str(text).unwrap_or_else(|e| unreachable!("{service}: {e}"));
            assert!(file.source.starts_with("Actions, resources, and condition keys for "));
            assert_eq!(file.date.len(), 10);
            for row in &file.actions {
                assert!(
                    row.access
                        .split(", ")
                        .all(|level| ["List", "Read", "Write", "Permissions management", "Tagging"].contains(&level)),
                    "{service}:{} access {}",
                    row.name,
                    row.access
                );
                for d in &row.dependent {
                    assert!(d.contains(':'), "{service}:{} dependent {d}", row.name);
                }
            }
        }
        for s in CATALOGUED_SERVICES {
            assert!(service_is_complete(s), "{s} is catalogued but not complete");
        }
        for s in cat.services.keys() {
            assert_eq!(service_is_complete(s), CATALOGUED_SERVICES.contains(&s.as_str()), "{s}");
        }
    }

    #[test]
    fn lookups_are_case_insensitive_and_canonical() {
        let info = action_info("DynamoDB:enablekinesisstreamingdestination");
        assert_eq!(
            info.as_ref().map(|i| i.name.as_str()),
            Some("dynamodb:EnableKinesisStreamingDestination")
        );
        assert_eq!(info.map(|i| i.resource_types), Some(vec!["table".to_string()]));
        assert!(action_info("dynamodb:EnableKinesisStreamingDestinations").is_none());
        assert!(action_info("s3:GetObject").is_none());
        assert!(action_info("nonsense").is_none());
        assert!(action_info(":").is_none());
        let put = action_info("kinesis:PutRecords");
        assert_eq!(put.map(|i| i.condition_keys), Some(vec![]), "aws: keys are not listed");
    }

    #[test]
    fn edit_distance_counts_edits_and_swaps() {
        assert_eq!(edit_distance("abc", "abc", 3), Some(0));
        assert_eq!(edit_distance("abc", "abd", 3), Some(1));
        assert_eq!(edit_distance("abc", "acb", 3), Some(1));
        assert_eq!(edit_distance("abc", "abcd", 3), Some(1));
        assert_eq!(edit_distance("", "abc", 3), Some(3));
        assert_eq!(edit_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("a", "abcdefgh", 2), None);
    }

    #[test]
    fn typos_get_suggestions_and_far_names_do_not() {
        let cases = [
            (
                "dynamodb:EnableKinesisStreamingDestinations",
                Some("dynamodb:EnableKinesisStreamingDestination"),
            ),
            (
                "dynamodb:EnableKinesisStreamDestination",
                Some("dynamodb:EnableKinesisStreamingDestination"),
            ),
            ("kinesis:DescribeStreams", Some("kinesis:DescribeStream")),
            ("kinesis:ListStream", Some("kinesis:ListStreams")),
            ("kinesis:PutRecrods", Some("kinesis:PutRecords")),
            ("iam:CreateServiceLinkRole", Some("iam:CreateServiceLinkedRole")),
            ("iam:createservicelinkedrole", Some("iam:CreateServiceLinkedRole")),
            ("dynamodb:Frobnicate", None),
            ("dynamodb:Enable*", None),
            ("s3:GetObjekt", None),
        ];
        for (typo, want) in cases {
            assert_eq!(nearest_action(typo).as_deref(), want, "{typo}");
        }
    }
}
