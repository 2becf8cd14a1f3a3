//! The data the analyzer ships with: capability definitions (`rules/capabilities.toml`),
//! the bundled documents of AWS managed policies (`rules/aws-managed/*.json`, facts in
//! `rules/aws-managed/INDEX.toml`) and the action catalogue of the services replication
//! involves (`rules/actions/<service>.toml`).
//!
//! The files are compiled in; unit tests check that they parse, so a broken data file
//! fails the build's tests rather than a user's run. Parsed data is kept in `OnceLock`s:
//! the files are read once per process whatever the number of callers.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::iam::eval::Policy;
use crate::iam::policy;
use crate::load::json;
use crate::source::FileId;

const CAPABILITIES: &str = include_str!("../rules/capabilities.toml");

/// The facts of each bundled AWS managed policy (version, date, path, source page).
const AWS_MANAGED_INDEX: &str = include_str!("../rules/aws-managed/INDEX.toml");

/// AWS managed policies: (name, default version's document as AWS publishes it). Every
/// entry has its row in `INDEX.toml`; a test checks the folder, the index and this table agree.
const AWS_MANAGED: &[(&str, &str)] = &[
    (
        "AIDevOpsAgentAccessPolicy",
        include_str!("../rules/aws-managed/AIDevOpsAgentAccessPolicy.json"),
    ),
    (
        "AIDevOpsAgentActionsPolicy",
        include_str!("../rules/aws-managed/AIDevOpsAgentActionsPolicy.json"),
    ),
    (
        "AIOpsAssistantPolicy",
        include_str!("../rules/aws-managed/AIOpsAssistantPolicy.json"),
    ),
    (
        "AWSAppSyncAdministrator",
        include_str!("../rules/aws-managed/AWSAppSyncAdministrator.json"),
    ),
    (
        "AWSApplicationDiscoveryServiceFullAccess",
        include_str!("../rules/aws-managed/AWSApplicationDiscoveryServiceFullAccess.json"),
    ),
    (
        "AWSAuditManagerAdministratorAccess",
        include_str!("../rules/aws-managed/AWSAuditManagerAdministratorAccess.json"),
    ),
    (
        "AWSCertificateManagerFullAccess",
        include_str!("../rules/aws-managed/AWSCertificateManagerFullAccess.json"),
    ),
    (
        "AWSLambdaDynamoDBExecutionRole",
        include_str!("../rules/aws-managed/AWSLambdaDynamoDBExecutionRole.json"),
    ),
    (
        "AWSLambdaKinesisExecutionRole",
        include_str!("../rules/aws-managed/AWSLambdaKinesisExecutionRole.json"),
    ),
    (
        "AWSMcpServiceActionsFullAccess",
        include_str!("../rules/aws-managed/AWSMcpServiceActionsFullAccess.json"),
    ),
    (
        "AWSMigrationHubFullAccess",
        include_str!("../rules/aws-managed/AWSMigrationHubFullAccess.json"),
    ),
    (
        "AWSNetworkFirewallFullAccess",
        include_str!("../rules/aws-managed/AWSNetworkFirewallFullAccess.json"),
    ),
    (
        "AWSResilienceHubV2AssessmentExecutionPolicy",
        include_str!("../rules/aws-managed/AWSResilienceHubV2AssessmentExecutionPolicy.json"),
    ),
    (
        "AWSResourceGroupsReadOnlyAccess",
        include_str!("../rules/aws-managed/AWSResourceGroupsReadOnlyAccess.json"),
    ),
    (
        "AWS_ConfigRole",
        include_str!("../rules/aws-managed/AWS_ConfigRole.json"),
    ),
    (
        "AdministratorAccess",
        include_str!("../rules/aws-managed/AdministratorAccess.json"),
    ),
    (
        "AdministratorAccess-Amplify",
        include_str!("../rules/aws-managed/AdministratorAccess-Amplify.json"),
    ),
    (
        "AlexaForBusinessFullAccess",
        include_str!("../rules/aws-managed/AlexaForBusinessFullAccess.json"),
    ),
    (
        "AmazonAuroraDSQLConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonAuroraDSQLConsoleFullAccess.json"),
    ),
    (
        "AmazonChimeFullAccess",
        include_str!("../rules/aws-managed/AmazonChimeFullAccess.json"),
    ),
    (
        "AmazonCloudWatchRUMFullAccess",
        include_str!("../rules/aws-managed/AmazonCloudWatchRUMFullAccess.json"),
    ),
    (
        "AmazonCodeGuruReviewerFullAccess",
        include_str!("../rules/aws-managed/AmazonCodeGuruReviewerFullAccess.json"),
    ),
    (
        "AmazonCognitoPowerUser",
        include_str!("../rules/aws-managed/AmazonCognitoPowerUser.json"),
    ),
    (
        "AmazonConnect_FullAccess",
        include_str!("../rules/aws-managed/AmazonConnect_FullAccess.json"),
    ),
    (
        "AmazonDataZoneSageMakerProvisioningRolePolicy",
        include_str!("../rules/aws-managed/AmazonDataZoneSageMakerProvisioningRolePolicy.json"),
    ),
    (
        "AmazonDevOpsGuruConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonDevOpsGuruConsoleFullAccess.json"),
    ),
    (
        "AmazonDevOpsGuruFullAccess",
        include_str!("../rules/aws-managed/AmazonDevOpsGuruFullAccess.json"),
    ),
    (
        "AmazonDynamoDBFullAccess",
        include_str!("../rules/aws-managed/AmazonDynamoDBFullAccess.json"),
    ),
    (
        "AmazonDynamoDBFullAccess_v2",
        include_str!("../rules/aws-managed/AmazonDynamoDBFullAccess_v2.json"),
    ),
    (
        "AmazonDynamoDBFullAccesswithDataPipeline",
        include_str!("../rules/aws-managed/AmazonDynamoDBFullAccesswithDataPipeline.json"),
    ),
    (
        "AmazonDynamoDBReadOnlyAccess",
        include_str!("../rules/aws-managed/AmazonDynamoDBReadOnlyAccess.json"),
    ),
    (
        "AmazonEC2RoleforDataPipelineRole",
        include_str!("../rules/aws-managed/AmazonEC2RoleforDataPipelineRole.json"),
    ),
    (
        "AmazonECSInfrastructureRolePolicyForManagedInstances",
        include_str!("../rules/aws-managed/AmazonECSInfrastructureRolePolicyForManagedInstances.json"),
    ),
    (
        "AmazonElasticMapReduceforEC2Role",
        include_str!("../rules/aws-managed/AmazonElasticMapReduceforEC2Role.json"),
    ),
    (
        "AmazonEventBridgeSchemasFullAccess",
        include_str!("../rules/aws-managed/AmazonEventBridgeSchemasFullAccess.json"),
    ),
    (
        "AmazonKinesisAnalyticsFullAccess",
        include_str!("../rules/aws-managed/AmazonKinesisAnalyticsFullAccess.json"),
    ),
    (
        "AmazonKinesisAnalyticsReadOnly",
        include_str!("../rules/aws-managed/AmazonKinesisAnalyticsReadOnly.json"),
    ),
    (
        "AmazonKinesisFullAccess",
        include_str!("../rules/aws-managed/AmazonKinesisFullAccess.json"),
    ),
    (
        "AmazonKinesisReadOnlyAccess",
        include_str!("../rules/aws-managed/AmazonKinesisReadOnlyAccess.json"),
    ),
    (
        "AmazonLexFullAccess",
        include_str!("../rules/aws-managed/AmazonLexFullAccess.json"),
    ),
    (
        "AmazonMonitronFullAccess",
        include_str!("../rules/aws-managed/AmazonMonitronFullAccess.json"),
    ),
    (
        "AmazonQLDBConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonQLDBConsoleFullAccess.json"),
    ),
    (
        "AmazonRekognitionServiceRole",
        include_str!("../rules/aws-managed/AmazonRekognitionServiceRole.json"),
    ),
    (
        "AmazonSSMFullAccess",
        include_str!("../rules/aws-managed/AmazonSSMFullAccess.json"),
    ),
    (
        "AmazonWorkMailFullAccess",
        include_str!("../rules/aws-managed/AmazonWorkMailFullAccess.json"),
    ),
    (
        "AmazonWorkSpacesSecureBrowserReadOnly",
        include_str!("../rules/aws-managed/AmazonWorkSpacesSecureBrowserReadOnly.json"),
    ),
    (
        "AmazonWorkSpacesWebReadOnly",
        include_str!("../rules/aws-managed/AmazonWorkSpacesWebReadOnly.json"),
    ),
    (
        "BedrockAgentCoreRuntimeInstancesOperatorRolePolicy",
        include_str!("../rules/aws-managed/BedrockAgentCoreRuntimeInstancesOperatorRolePolicy.json"),
    ),
    (
        "CloudFrontFullAccess",
        include_str!("../rules/aws-managed/CloudFrontFullAccess.json"),
    ),
    (
        "CloudWatchAutomaticDashboardsAccess",
        include_str!("../rules/aws-managed/CloudWatchAutomaticDashboardsAccess.json"),
    ),
    ("DataScientist", include_str!("../rules/aws-managed/DataScientist.json")),
    (
        "DatabaseAdministrator",
        include_str!("../rules/aws-managed/DatabaseAdministrator.json"),
    ),
    (
        "DynamoDBKinesisReplicationServiceRolePolicy",
        include_str!("../rules/aws-managed/DynamoDBKinesisReplicationServiceRolePolicy.json"),
    ),
    ("IAMFullAccess", include_str!("../rules/aws-managed/IAMFullAccess.json")),
    (
        "IAMReadOnlyAccess",
        include_str!("../rules/aws-managed/IAMReadOnlyAccess.json"),
    ),
    (
        "PowerUserAccess",
        include_str!("../rules/aws-managed/PowerUserAccess.json"),
    ),
    (
        "ReadOnlyAccess",
        include_str!("../rules/aws-managed/ReadOnlyAccess.json"),
    ),
    (
        "SageMakerStudioAdminIAMDefaultExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioAdminIAMDefaultExecutionPolicy.json"),
    ),
    (
        "SageMakerStudioAdminIAMPermissiveExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioAdminIAMPermissiveExecutionPolicy.json"),
    ),
    (
        "SageMakerStudioProjectProvisioningRolePolicy",
        include_str!("../rules/aws-managed/SageMakerStudioProjectProvisioningRolePolicy.json"),
    ),
    (
        "SageMakerStudioProjectRoleMachineLearningPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioProjectRoleMachineLearningPolicy.json"),
    ),
    (
        "SageMakerStudioUserIAMDefaultExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioUserIAMDefaultExecutionPolicy.json"),
    ),
    (
        "SageMakerStudioUserIAMPermissiveExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioUserIAMPermissiveExecutionPolicy.json"),
    ),
    ("SecurityAudit", include_str!("../rules/aws-managed/SecurityAudit.json")),
    ("SupportUser", include_str!("../rules/aws-managed/SupportUser.json")),
    (
        "SystemAdministrator",
        include_str!("../rules/aws-managed/SystemAdministrator.json"),
    ),
    (
        "VPCLatticeFullAccess",
        include_str!("../rules/aws-managed/VPCLatticeFullAccess.json"),
    ),
    (
        "ViewOnlyAccess",
        include_str!("../rules/aws-managed/ViewOnlyAccess.json"),
    ),
    (
        "WellArchitectedAgentResourceScanning",
        include_str!("../rules/aws-managed/WellArchitectedAgentResourceScanning.json"),
    ),
    (
        "WellArchitectedConsoleFullAccess",
        include_str!("../rules/aws-managed/WellArchitectedConsoleFullAccess.json"),
    ),
    (
        "WorkLinkServiceRolePolicy",
        include_str!("../rules/aws-managed/WorkLinkServiceRolePolicy.json"),
    ),
];

/// The action catalogue: (service prefix, data file).
const ACTION_FILES: &[(&str, &str)] = &[
    ("dynamodb", include_str!("../rules/actions/dynamodb.toml")),
    ("iam", include_str!("../rules/actions/iam.toml")),
    ("kinesis", include_str!("../rules/actions/kinesis.toml")),
    ("kms", include_str!("../rules/actions/kms.toml")),
];

/// Where a requirement is evaluated.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum On {
    Table,
    Any,
    Stream,
    Slr,
    /// Another service's service-linked role (a probe for KDS003).
    #[serde(rename = "other-slr")]
    OtherSlr,
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
    /// A probe that rules read but reports do not list.
    #[serde(default)]
    pub internal: bool,
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

/// What `rules/aws-managed/INDEX.toml` says of one bundled AWS managed policy.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedPolicyFacts {
    /// Policy name: the last segment of its ARN, and the catalogue's key.
    pub name: String,
    /// IAM path, `/` or e.g. `/service-role/`.
    pub path: String,
    /// The default version id, e.g. `v15`.
    pub version: String,
    /// When that version was published (`YYYY-MM-DD`, UTC).
    pub date: String,
    /// When the policy was created (`YYYY-MM-DD`, UTC).
    pub created: String,
    /// Title of the AWS page the document is from.
    pub source: String,
}

impl ManagedPolicyFacts {
    /// The policy's ARN in the `aws` partition.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }
}

/// The facts of every bundled AWS managed policy, in `INDEX.toml` order.
pub fn aws_managed_facts() -> &'static [ManagedPolicyFacts] {
    static FACTS: OnceLock<Vec<ManagedPolicyFacts>> = OnceLock::new();
    FACTS.get_or_init(|| parse_managed_index().unwrap_or_default())
}

/// The AWS managed policy catalogue, by policy name. A policy's address is its ARN (with
/// its path, e.g. `arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole`).
pub fn aws_managed() -> BTreeMap<String, Policy> {
    static MANAGED: OnceLock<BTreeMap<String, Policy>> = OnceLock::new();
    MANAGED.get_or_init(parse_managed).clone()
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
pub fn service_is_complete(service: &str) -> bool {
    action_catalog()
        .services
        .get(&service.to_ascii_lowercase())
        .is_some_and(|s| s.complete)
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManagedIndex {
    policy: Vec<ManagedPolicyFacts>,
}

fn parse_managed_index() -> Result<Vec<ManagedPolicyFacts>, String> {
    toml::from_str::<ManagedIndex>(AWS_MANAGED_INDEX)
        .map(|i| i.policy)
        .map_err(|e| format!("rules/aws-managed/INDEX.toml: {e}"))
}

fn parse_managed() -> BTreeMap<String, Policy> {
    let facts = aws_managed_facts();
    let mut out = BTreeMap::new();
    for (name, text) in AWS_MANAGED {
        let path = facts.iter().find(|f| f.name == *name).map_or("/", |f| f.path.as_str());
        let address = format!("arn:aws:iam::aws:policy{path}{name}");
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
/// two neighbours each cost one), or `None` when it exceeds `limit`.
fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // Three rows: two back (for swaps), previous and current.
    let mut two_back: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a.get(i - 1) == Some(&cb) && b.get(j - 1) == Some(&ca) {
                d = d.min(two_back[j - 1] + 1);
            }
            cur[j + 1] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut two_back, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_data_matches_the_spec() {
        let caps = capabilities().unwrap_or_else(|e| unreachable!("{e}"));
        let ids: Vec<_> = caps
            .capabilities
            .iter()
            .filter(|c| !c.internal)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["enable", "describe", "disable", "update", "create-slr", "delete-slr"]
        );
        // Internal probes come after the reported capabilities, so indexes below hold.
        assert!(caps.capabilities.iter().skip(ids.len()).all(|c| c.internal));
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
            assert!(p.document.unknown.is_none(), "{}", p.address);
        }
        for (name, text) in AWS_MANAGED {
            let v = json::parse(text, FileId::BUILTIN, 0).unwrap_or_else(|e| unreachable!("{name}: {e:?}"));
            let (_, diags) = policy::parse(&v);
            assert!(diags.is_empty(), "{name}: {diags:?}");
        }
    }

    #[test]
    fn managed_index_and_table_agree() {
        let facts = parse_managed_index().unwrap_or_else(|e| unreachable!("{e}"));
        let indexed: Vec<_> = facts.iter().map(|f| f.name.as_str()).collect();
        let table: Vec<_> = AWS_MANAGED.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            indexed, table,
            "INDEX.toml and AWS_MANAGED list the same policies in the same order"
        );
        for f in &facts {
            assert!(
                f.path.starts_with('/') && f.path.ends_with('/'),
                "{}: path {}",
                f.name,
                f.path
            );
            assert!(f.version.starts_with('v'), "{}: version {}", f.name, f.version);
            assert_eq!(f.date.len(), 10, "{}: date {}", f.name, f.date);
            assert!(f.created <= f.date, "{}", f.name);
            assert_eq!(f.source, format!("{} - AWS Managed Policy", f.name));
        }
        let cat = aws_managed();
        let lambda = cat.get("AWSLambdaKinesisExecutionRole").map(|p| p.address.as_str());
        assert_eq!(
            lambda,
            Some("arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole")
        );
        let admin = cat.get("AdministratorAccess").map(|p| p.address.as_str());
        assert_eq!(admin, Some("arn:aws:iam::aws:policy/AdministratorAccess"));
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
