//! The input-format-independent model: what the loaders produce from Terraform and
//! CloudFormation, before linking into the graph.
//!
//! Loaders say what a template *declares*: principals, groups, policies and where they are
//! attached, tables, streams, streaming destinations, KMS keys, SCPs, the service-linked
//! role. References between resources are kept as the values the templates give (a role
//! name, a policy ARN, a table name): [`crate::graph`] links them, so that a reference
//! to a resource outside the inputs is recognised as external rather than lost.

use crate::source::Span;
use crate::value::{Dialect, Template, Value};

/// What kind of input a loader read.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum InputKind {
    Terraform,
    TerraformPlan,
    CloudFormation,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Terraform => "terraform",
            InputKind::TerraformPlan => "terraform-plan",
            InputKind::CloudFormation => "cloudformation",
        }
    }
}

// Beside `InputKind`, not in `value.rs`: values know dialects, not the model's input kinds.
impl Dialect {
    /// The dialect of an input format.
    pub fn of(kind: InputKind) -> Dialect {
        match kind {
            InputKind::CloudFormation => Dialect::CloudFormation,
            _ => Dialect::Terraform,
        }
    }
}

/// A rule's identity: `KDS` and three digits (`KDS004`), held as its number. Ordered as the
/// ids sort as text; shown and parsed in the `KDS004` form. Whether a rule with that number
/// exists is the rule catalogue's business ([`crate::rules::catalogue`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct RuleId(u16);

impl RuleId {
    /// The id `KDS` + `number` in three digits (`number` ≤ 999).
    pub const fn new(number: u16) -> RuleId {
        assert!(number <= 999, "a rule id has three digits");
        RuleId(number)
    }

    /// Parses `KDS004` (any letter case, exactly three digits).
    pub fn parse(text: &str) -> Option<RuleId> {
        let digits = text
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("KDS"))
            .and(text.get(3..))?;
        (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| RuleId(digits.parse().unwrap_or(0)))
    }
}

/// Exact comparison with the canonical text (`KDS004`, upper case), without allocating: how
/// suppression comments and other user text that names a rule are matched.
impl PartialEq<str> for RuleId {
    fn eq(&self, text: &str) -> bool {
        text.len() == 6 && text.starts_with("KDS") && RuleId::parse(text) == Some(*self)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KDS{:03}", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RuleId, D::Error> {
        let text = String::deserialize(d)?;
        RuleId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a rule id (KDS and three digits)")))
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Severity of a diagnostic or finding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" => Some(Severity::Note),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// Something a loader wants the user to know that is not a load failure: an unsupported
/// construct, an unresolved value, a duplicate key. Always with a span.
#[derive(Clone, PartialEq, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Span,
}

impl Diagnostic {
    pub fn note(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            message: message.into(),
            span,
        }
    }

    pub fn warning(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            span,
        }
    }
}

/// A file that could not be loaded (syntax error, not valid UTF-8, too large, ...).
/// `span` points at the failure inside the registered file; `path` is the display path
/// (the file may not be in the source map if it could not be read at all).
#[derive(Clone, PartialEq, Debug)]
pub struct LoadError {
    pub path: String,
    pub span: Option<Span>,
    pub message: String,
}

/// Everything one input (a Terraform module folder, a plan file or a template) declares.
#[derive(Clone, Debug)]
pub struct Input {
    /// Display path of the input root (folder or file): the `id` prefix of its resources.
    pub path: String,
    pub kind: InputKind,
    pub principals: Vec<Principal>,
    pub groups: Vec<Group>,
    pub memberships: Vec<Membership>,
    pub policies: Vec<Policy>,
    pub attachments: Vec<Attachment>,
    pub tables: Vec<Table>,
    pub streams: Vec<Stream>,
    pub destinations: Vec<Destination>,
    pub keys: Vec<Key>,
    pub slrs: Vec<ServiceLinkedRole>,
    pub diagnostics: Vec<Diagnostic>,
    pub errors: Vec<LoadError>,
    /// Display paths of the child module folders a Terraform root loaded through its
    /// `module` calls (so discovery does not also analyse them as roots).
    pub module_dirs: Vec<String>,
    /// Suppressions the template declares in its own syntax (CloudFormation `Metadata`);
    /// comment suppressions are found by scanning sources.
    pub suppressions: Vec<Suppression>,
    /// CDK construct paths (`aws:cdk:path` metadata) by address, shown beside logical ids.
    pub(crate) construct_paths: std::collections::BTreeMap<String, String>,
}

impl Input {
    /// Appends what `later` holds after what this input holds (the same input read in
    /// parts: its path and kind are this one's).
    pub fn append(&mut self, later: Input) {
        let Input {
            path: _,
            kind: _,
            mut principals,
            mut groups,
            mut memberships,
            mut policies,
            mut attachments,
            mut tables,
            mut streams,
            mut destinations,
            mut keys,
            mut slrs,
            mut diagnostics,
            mut errors,
            mut module_dirs,
            mut suppressions,
            construct_paths,
        } = later;
        self.principals.append(&mut principals);
        self.groups.append(&mut groups);
        self.memberships.append(&mut memberships);
        self.policies.append(&mut policies);
        self.attachments.append(&mut attachments);
        self.tables.append(&mut tables);
        self.streams.append(&mut streams);
        self.destinations.append(&mut destinations);
        self.keys.append(&mut keys);
        self.slrs.append(&mut slrs);
        self.diagnostics.append(&mut diagnostics);
        self.errors.append(&mut errors);
        self.module_dirs.append(&mut module_dirs);
        self.suppressions.append(&mut suppressions);
        for (address, path) in construct_paths {
            self.construct_paths.entry(address).or_insert(path);
        }
    }

    pub fn new(path: impl Into<String>, kind: InputKind) -> Input {
        Input {
            path: path.into(),
            kind,
            principals: Vec::new(),
            groups: Vec::new(),
            memberships: Vec::new(),
            policies: Vec::new(),
            attachments: Vec::new(),
            tables: Vec::new(),
            streams: Vec::new(),
            destinations: Vec::new(),
            keys: Vec::new(),
            slrs: Vec::new(),
            diagnostics: Vec::new(),
            errors: Vec::new(),
            module_dirs: Vec::new(),
            suppressions: Vec::new(),
            construct_paths: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum PrincipalKind {
    Role,
    User,
}

/// An IAM role or user declared in the input.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Native address: `aws_iam_role.x` / `module.m.aws_iam_role.x["k"]` / a logical id.
    pub address: String,
    pub kind: PrincipalKind,
    /// The IAM name (possibly symbolic: a generated name is an opaque symbol).
    pub name: Template,
    /// The ARN: `arn:<partition>:iam::<account>:role<path><name>`.
    pub arn: Template,
    /// The declaration (resource block / logical id entry).
    pub span: Span,
}

/// An IAM group declared in the input.
#[derive(Clone, Debug)]
pub struct Group {
    pub address: String,
    pub name: Template,
    pub span: Span,
}

/// A user's membership in a group, both by name as the template gives them, and by the
/// address of the declared user or group where the template names it by reference.
#[derive(Clone, Debug)]
pub struct Membership {
    pub user: Template,
    pub group: Template,
    pub(crate) user_address: Option<String>,
    pub(crate) group_address: Option<String>,
    pub span: Span,
}

/// What kind of policy a document is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum PolicyKind {
    /// Inline policy of a role, user or group (its own resource or a property).
    Inline,
    /// A customer managed policy (`aws_iam_policy`, `AWS::IAM::ManagedPolicy`).
    Managed,
    /// A service control policy (`aws_organizations_policy`, `AWS::Organizations::Policy`).
    Scp,
    /// A resource-based policy on a table, stream or KMS key (`resource` names it).
    Resource,
    /// A role's trust policy (`assume_role_policy`, `AssumeRolePolicyDocument`), attached to
    /// its role by an [`Attachment`] like an inline policy; it grants nothing by itself.
    Trust,
}

/// A policy document and where it came from.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Address of the resource that declares it; inline property policies get
    /// `<owner address>/<policy name or index>`.
    pub address: String,
    pub kind: PolicyKind,
    pub name: Option<Template>,
    /// The ARN of a managed policy (how attachments name it).
    pub arn: Option<Template>,
    /// The document as loaded (a map, a JSON string already parsed into a map, or unknown).
    pub document: Value,
    /// For [`PolicyKind::Resource`]: the ARN of the resource it governs.
    pub resource: Option<Template>,
    pub span: Span,
}

impl Policy {
    /// A resource-based policy (table, stream or key policy) governing `resource`.
    pub fn resource(address: impl Into<String>, document: Value, resource: Template, span: Span) -> Policy {
        Policy {
            address: address.into(),
            kind: PolicyKind::Resource,
            name: None,
            arn: None,
            document,
            resource: Some(resource),
            span,
        }
    }
}

/// How an attachment names the principal or group it attaches to.
#[derive(Clone, PartialEq, Debug)]
pub enum Target {
    /// By native address within the same input: inline policies of a declared resource,
    /// and references that carry the resource they were read from (a role's `name` read
    /// through `aws_iam_role.r.name` names role `r`, not every role of that name).
    Address(String),
    RoleName(Template),
    UserName(Template),
    GroupName(Template),
    /// An SCP target (root, OU or account id); SCPs apply to every principal by default.
    Organization(Template),
}

/// How an attachment names the policy.
#[derive(Clone, PartialEq, Debug)]
pub enum PolicyRef {
    /// A policy declared in the same input, by address.
    Address(String),
    /// By ARN: a declared managed policy, an AWS managed policy, or an unknown one.
    Arn(Template),
    /// The policy reference itself could not be resolved.
    Unknown(Value),
}

/// A policy attached to a target.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub policy: PolicyRef,
    pub target: Target,
    /// Whether this attachment sets a permissions boundary instead of granting.
    pub boundary: bool,
    pub span: Span,
    /// Set when the attachment exists only under a condition that could not be decided
    /// (an unknown value naming it): the policy's grants then apply only conditionally.
    pub condition: Option<Value>,
}

/// A DynamoDB table (or one replica of a global table).
#[derive(Clone, Debug)]
pub struct Table {
    pub address: String,
    pub name: Template,
    pub arn: Template,
    pub span: Span,
}

/// A Kinesis data stream.
#[derive(Clone, Debug)]
pub struct Stream {
    pub address: String,
    pub name: Template,
    pub arn: Template,
    /// The KMS key, when the stream is encrypted with one (`KMS` encryption).
    pub kms_key: Option<Value>,
    pub span: Span,
}

/// How a destination names its table.
#[derive(Clone, PartialEq, Debug)]
pub enum TableRef {
    Address(String),
    Name(Template),
    Arn(Template),
}

/// A table → stream replication (`aws_dynamodb_kinesis_streaming_destination`,
/// `KinesisStreamSpecification`).
#[derive(Clone, Debug)]
pub struct Destination {
    pub address: String,
    pub table: TableRef,
    /// The stream ARN as given (may be unknown).
    pub stream_arn: Value,
    pub span: Span,
}

/// A KMS key declared in the input.
#[derive(Clone, Debug)]
pub struct Key {
    pub address: String,
    pub arn: Template,
    /// The key id as references give it (`aws_kms_key.k.key_id`, `!Ref Key`).
    pub id: Template,
    pub span: Span,
}

/// A declared service-linked role (`aws_iam_service_linked_role`,
/// `AWS::IAM::ServiceLinkedRole`).
#[derive(Clone, Debug)]
pub struct ServiceLinkedRole {
    pub address: String,
    pub service: Template,
    pub custom_suffix: Option<Template>,
    /// Whether the declaring tool is stopped from deleting it (`prevent_destroy = true`,
    /// `DeletionPolicy: Retain`/`RetainExceptOnCreate`), and where that is said.
    pub protected: Protection,
    pub span: Span,
}

#[derive(Clone, PartialEq, Debug)]
pub enum Protection {
    Protected(Span),
    Unprotected,
    /// The protection depends on a value that could not be resolved.
    Unknown(Value),
    /// The input format cannot show protection (a plan without its `.tf` files).
    NotShown,
}

/// Where a suppression applies.
#[derive(Clone, PartialEq, Debug)]
pub enum Scope {
    /// A comment (`comment` is its marker line): findings starting on the lines `first`
    /// through `last` (1-based) of its file, and inside the declarations that start on
    /// line `opens`.
    Lines {
        comment: Span,
        first: usize,
        last: usize,
        opens: usize,
    },
    /// Inside this span (a resource's declaration).
    Within(Span),
    /// The whole file of this span.
    File(Span),
}

/// One suppression as written.
#[derive(Clone, PartialEq, Debug)]
pub struct Suppression {
    /// Rule ids or names.
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    pub scope: Scope,
    /// The comment or metadata entry.
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_parse_show_and_sort_as_their_text() {
        let id = RuleId::parse("kds004").unwrap();
        assert_eq!(id, RuleId::new(4));
        assert_eq!(id.to_string(), "KDS004");
        for bad in ["KDS04", "KDS0004", "KDX004", "KDS00a", "", "KDS", "K"] {
            assert_eq!(RuleId::parse(bad), None, "{bad}");
        }
        assert!(id == *"KDS004" && id != *"kds004" && id != *"KDS005");
        let mut ids = [RuleId::new(15), RuleId::new(2), RuleId::new(10)];
        ids.sort();
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
    }
}
