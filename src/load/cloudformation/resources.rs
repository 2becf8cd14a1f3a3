//! Template sections and resources into model records.
//!
//! **Invariant:** a record's `span` is its logical-id entry (key through value); values
//! keep their own spans. Resource types that do not bear on replication access get one
//! note per type, at the first occurrence, with a count.

use std::collections::BTreeMap;

use super::Nesting;
use super::document::policy_document;
use super::intrinsics::{Evaluator, ParamInfo, ResourceInfo, StackContext, template_of};
use crate::load::LoadOptions;
use crate::model::{
    Attachment, Destination, Diagnostic, Group, Input, Key, Membership, Policy, PolicyKind, PolicyRef, Principal,
    PrincipalKind, Protection, ServiceLinkedRole, Stream, Table, TableRef, Target,
};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Entry, Template, Value, ValueKind};

/// The SAM transform that turns `AWS::Serverless::*` into plain resources.
pub(crate) const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

const KNOWN_SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Globals",
];

/// Maps one template's resources into `input`.
pub(crate) fn load(
    root: &Value,
    text: &str,
    file: FileId,
    options: &LoadOptions,
    nesting: &Nesting,
    sources: &SourceMap,
    input: &mut Input,
) {
    // `Fn::ForEach` loops first: what they make is then read like any other entry.
    let expanded;
    let root = if super::foreach::present(root) {
        let mut ev = evaluator(root, options, false);
        scope_evaluator(&mut ev, nesting, sources);
        let (out, notes) = super::foreach::expand(root, &mut ev);
        input.diagnostics.extend(notes);
        expanded = out;
        &expanded
    } else {
        root
    };
    for entry in root.entries() {
        if !KNOWN_SECTIONS.contains(&entry.key.as_str()) {
            input.diagnostics.push(Diagnostic::note(
                format!(
                    "top-level section `{}` is not a CloudFormation section; it is ignored",
                    entry.key
                ),
                entry.key_span,
            ));
        }
    }
    let sam = transforms(root, &mut input.diagnostics);
    let resources = root.get("Resources");
    match resources.map(|r| &r.kind) {
        None | Some(ValueKind::Map(_)) => {}
        Some(_) => {
            let span = root.entry("Resources").map(|e| e.key_span).unwrap_or(root.span);
            input.diagnostics.push(Diagnostic::warning(
                "`Resources` is not a mapping; no resource is read",
                span,
            ));
        }
    }
    let entries: &[Entry] = resources.map(Value::entries).unwrap_or_default();
    let mut ev = evaluator(root, options, sam);
    scope_evaluator(&mut ev, nesting, sources);
    let sam_globals = if sam { function_globals(root, input) } else { None };
    let mut loader = Loader {
        ev,
        input,
        text,
        file,
        nesting,
        sources,
        sam_globals,
        unmodelled: BTreeMap::new(),
        unmodelled_order: Vec::new(),
    };
    for (i, e) in entries.iter().enumerate() {
        // Duplicate logical ids: the last one wins, as CloudFormation's parsers do.
        if entries[i + 1..].iter().any(|later| later.key == e.key) {
            continue;
        }
        loader.resource(e, sam);
    }
    loader.finish();
}

/// An evaluator that knows the template's parameters, mappings, conditions and resources
/// (with the implicit roles of SAM functions when `sam`).
pub fn evaluator<'a>(root: &'a Value, options: &LoadOptions, sam: bool) -> Evaluator<'a> {
    let mut ev = Evaluator::new();
    for (name, value) in &options.cfn_parameters {
        ev.overrides.insert(name.clone(), value.clone());
    }
    if let Some(params) = root.get("Parameters") {
        for e in params.entries() {
            ev.params.insert(
                e.key.clone(),
                ParamInfo {
                    decl: &e.value,
                    key_span: e.key_span,
                },
            );
        }
    }
    ev.mappings = root.get("Mappings");
    if let Some(conditions) = root.get("Conditions") {
        for e in conditions.entries() {
            ev.conditions.insert(e.key.clone(), &e.value);
        }
    }
    let entries: &[Entry] = root.get("Resources").map(Value::entries).unwrap_or_default();
    for e in entries {
        if let Some(ty) = e.value.get("Type").and_then(Value::as_str) {
            ev.resources.insert(
                e.key.clone(),
                ResourceInfo {
                    ty: ty.to_string(),
                    properties: e.value.get("Properties"),
                    id_span: e.key_span,
                },
            );
        }
    }
    if sam {
        let globals = root.get("Globals").and_then(|g| g.get("Function"));
        super::sam::declare_implicit_roles(entries, globals, &mut ev);
    }
    ev
}

/// A nested stack's evaluator takes its parameters from the parent and scopes its
/// opaque ids by the stack's logical id; every evaluator can read its own nested stacks'
/// outputs.
pub(super) fn scope_evaluator<'a>(ev: &mut Evaluator<'a>, nesting: &'a Nesting, sources: &'a SourceMap) {
    ev.scope = nesting.scope.clone();
    ev.given = nesting.params.clone();
    ev.stacks = Some(StackContext { nesting, sources });
}

/// SAM properties that `Globals.Function` may not set (SAM rejects the template).
const NOT_GLOBAL: &[&str] = &["Role", "Policies", "FunctionName", "Events"];

/// `Globals.Function`, with a note for each property SAM does not allow there.
fn function_globals<'a>(root: &'a Value, input: &mut Input) -> Option<&'a Value> {
    let function = root.get("Globals")?.get("Function")?;
    for e in function.entries() {
        if NOT_GLOBAL.contains(&e.key.as_str()) {
            input.diagnostics.push(Diagnostic::note(
                format!(
                    "`{}` is not allowed in `Globals.Function` (SAM rejects the template); it is ignored",
                    e.key
                ),
                e.key_span,
            ));
        }
    }
    Some(function)
}

/// Reads `Transform`; returns whether SAM applies. Other transforms are noted.
pub(super) fn transforms(root: &Value, diagnostics: &mut Vec<Diagnostic>) -> bool {
    let Some(t) = root.get("Transform") else {
        return false;
    };
    let items: Vec<&Value> = match &t.kind {
        ValueKind::List(items) => items.iter().collect(),
        _ => vec![t],
    };
    let mut sam = false;
    for item in items {
        match item.as_str() {
            Some(SAM_TRANSFORM) => sam = true,
            Some("AWS::LanguageExtensions") => {}
            Some(other) => diagnostics.push(Diagnostic::note(
                format!("transform `{other}` is not applied; resources it would add or change are not seen"),
                item.span,
            )),
            None => diagnostics.push(Diagnostic::note(
                "a `Transform` that is not a name is not applied",
                item.span,
            )),
        }
    }
    sam
}

/// How a policy names the principals or groups it attaches to.
type TargetByName = fn(Template) -> Target;

/// One resource's resolved declaration.
pub struct Resource<'e> {
    pub id: &'e str,
    pub(crate) ty: &'e str,
    pub entry: &'e Entry,
    pub props: Value,
    pub span: Span,
}

impl Resource<'_> {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.props.get(key)
    }
}

pub(crate) struct Loader<'a, 'i> {
    pub(crate) ev: Evaluator<'a>,
    pub input: &'i mut Input,
    pub text: &'a str,
    pub file: FileId,
    pub(crate) nesting: &'a Nesting,
    pub sources: &'a SourceMap,
    /// `Globals.Function` of a SAM template.
    pub sam_globals: Option<&'a Value>,
    unmodelled: BTreeMap<String, (usize, Span)>,
    unmodelled_order: Vec<String>,
}

impl Loader<'_, '_> {
    fn resource(&mut self, e: &Entry, sam: bool) {
        let span = e.key_span.join(e.value.span);
        if e.key.starts_with("Fn::ForEach::") {
            self.note(
                format!(
                    "`{}` (AWS::LanguageExtensions loop) is not expanded; the resources it makes are not seen",
                    e.key
                ),
                e.key_span,
            );
            return;
        }
        let Some(ty_value) = e.value.get("Type") else {
            self.input.diagnostics.push(Diagnostic::warning(
                format!("resource `{}` has no `Type`; it is ignored", e.key),
                span,
            ));
            return;
        };
        let Some(ty) = ty_value.as_str() else {
            self.input.diagnostics.push(Diagnostic::warning(
                format!("resource `{}` has a `Type` that is not a string; it is ignored", e.key),
                ty_value.span,
            ));
            return;
        };
        let mut undecided = None;
        if let Some(cond) = e.value.get("Condition") {
            match cond.as_str() {
                Some(name) => match self.ev.condition(name, cond.span) {
                    Some(false) => {
                        self.note(
                            format!("resource `{}` is not created: its condition `{name}` is false", e.key),
                            cond.span,
                        );
                        return;
                    }
                    Some(true) => {}
                    None => undecided = Some((name.to_string(), cond.span)),
                },
                None => self.note(
                    format!("resource `{}` has a `Condition` that is not a name; it is kept", e.key),
                    cond.span,
                ),
            }
        }
        let props = match e.value.get("Properties") {
            Some(p) => self
                .ev
                .resolve(p)
                .unwrap_or_else(|| Value::new(ValueKind::Map(Vec::new()), p.span)),
            None => Value::new(ValueKind::Map(Vec::new()), e.value.span),
        };
        if let ValueKind::Unknown(_) = props.kind {
            self.note(
                format!(
                    "the properties of `{}` are not known statically; the resource is read without them",
                    e.key
                ),
                props.span,
            );
        }
        let r = Resource {
            id: &e.key,
            ty,
            entry: e,
            props,
            span,
        };
        let before = RecordCounts::of(self.input);
        let attachments_before = self.input.attachments.len();
        self.dispatch(&r, sam);
        if let Some((name, span)) = undecided {
            let first = before.0[2];
            for p in self.input.policies.iter_mut().skip(first) {
                mark_conditional(&mut p.document, &name, span);
            }
            // Managed policies it attaches by ARN grant only under the same condition.
            let cond = Value::unknown(
                format!("Condition {name}"),
                format!(
                    "the resource exists only when condition `{name}` holds, which depends on values not known statically"
                ),
                span,
            );
            for a in self.input.attachments.iter_mut().skip(attachments_before) {
                if !a.boundary && matches!(a.policy, PolicyRef::Arn(_)) {
                    a.condition = Some(cond.clone());
                }
            }
        }
        if let Some(path) = e
            .value
            .get("Metadata")
            .and_then(|m| m.get("aws:cdk:path"))
            .and_then(Value::as_str)
        {
            before.name_new_records(self.input, path);
        }
    }

    fn dispatch(&mut self, r: &Resource<'_>, sam: bool) {
        let (ty, span) = (r.ty, r.span);
        if sam && ty.starts_with("AWS::Serverless::") {
            super::nested::confine_code_uris(self, r);
        }
        match ty {
            "AWS::IAM::Role" => self.principal(r, PrincipalKind::Role),
            "AWS::IAM::User" => self.principal(r, PrincipalKind::User),
            "AWS::IAM::Group" => self.group(r),
            "AWS::IAM::UserToGroupAddition" => self.user_to_group(r),
            "AWS::IAM::Policy" => self.standalone_policy(r, PolicyKind::Inline),
            "AWS::IAM::ManagedPolicy" => self.standalone_policy(r, PolicyKind::Managed),
            "AWS::IAM::RolePolicy" => self.owned_policy(r, "RoleName", Target::RoleName),
            "AWS::IAM::UserPolicy" => self.owned_policy(r, "UserName", Target::UserName),
            "AWS::IAM::GroupPolicy" => self.owned_policy(r, "GroupName", Target::GroupName),
            "AWS::IAM::ServiceLinkedRole" => self.slr(r),
            "AWS::DynamoDB::Table" => self.table(r),
            "AWS::DynamoDB::GlobalTable" => self.global_table(r),
            "AWS::Kinesis::Stream" => self.stream(r),
            "AWS::Kinesis::ResourcePolicy" => self.stream_policy(r),
            "AWS::KMS::Key" => self.key(r),
            "AWS::Organizations::Policy" => self.org_policy(r),
            "AWS::Serverless::Function" | "AWS::Serverless::StateMachine" if sam => super::sam::function(self, r),
            "AWS::Serverless::SimpleTable" if sam => self.simple_table(r),
            "AWS::CloudFormation::Stack" => super::nested::stack(self, r, "TemplateURL"),
            "AWS::Serverless::Application" if sam => super::nested::stack(self, r, "Location"),
            _ => self.unmodelled(ty, span),
        }
    }

    pub fn note(&mut self, message: impl Into<String>, span: Span) {
        self.input.diagnostics.push(Diagnostic::note(message, span));
    }

    fn unmodelled(&mut self, ty: &str, span: Span) {
        match self.unmodelled.get_mut(ty) {
            Some((count, _)) => *count += 1,
            None => {
                self.unmodelled.insert(ty.to_string(), (1, span));
                self.unmodelled_order.push(ty.to_string());
            }
        }
    }

    fn finish(&mut self) {
        self.input.diagnostics.append(&mut self.ev.diagnostics);
        for ty in std::mem::take(&mut self.unmodelled_order) {
            if let Some((count, span)) = self.unmodelled.get(&ty).copied() {
                let what = if count == 1 { "resource" } else { "resources" };
                self.input.diagnostics.push(Diagnostic::note(
                    format!("{count} {what} of type `{ty}` not modelled (not relevant to replication access)"),
                    span,
                ));
            }
        }
    }

    /// A policy document in the IAM JSON shape.
    pub fn document(&mut self, v: Option<&Value>, owner_span: Span) -> Value {
        match v {
            Some(v) => policy_document(v, self.text, self.file, &mut self.input.diagnostics),
            None => {
                self.note("the policy has no document", owner_span);
                Value::unknown("PolicyDocument", "no policy document is given", owner_span)
            }
        }
    }

    fn principal(&mut self, r: &Resource<'_>, kind: PrincipalKind) {
        let name = self.ev.name_of(r.id);
        let arn = self.ev.arn_of(r.id).unwrap_or_default();
        self.input.principals.push(Principal {
            address: r.id.to_string(),
            kind,
            name: name.clone(),
            arn,
            span: r.span,
        });
        if kind == PrincipalKind::Role
            && let Some(doc) = r.get("AssumeRolePolicyDocument")
        {
            self.trust_policy(r.id, doc);
        }
        self.inline_policies(r);
        self.managed_arns(r);
        self.boundary(r);
        if kind == PrincipalKind::User
            && let Some(groups) = r.get("Groups")
        {
            for group in list_items(groups) {
                self.input.memberships.push(Membership {
                    user: name.clone(),
                    group: template_of(group),
                    user_address: Some(r.id.to_string()),
                    group_address: None,
                    span: group.span,
                });
            }
        }
    }

    fn group(&mut self, r: &Resource<'_>) {
        let name = self.ev.name_of(r.id);
        self.input.groups.push(Group {
            address: r.id.to_string(),
            name,
            span: r.span,
        });
        self.inline_policies(r);
        self.managed_arns(r);
    }

    fn user_to_group(&mut self, r: &Resource<'_>) {
        let group = r.get("GroupName").map(template_of).unwrap_or_default();
        if let Some(users) = r.get("Users") {
            for user in list_items(users) {
                self.input.memberships.push(Membership {
                    user: template_of(user),
                    group: group.clone(),
                    user_address: None,
                    group_address: None,
                    span: r.span,
                });
            }
        }
    }

    /// A role's `AssumeRolePolicyDocument` (also SAM's implicit roles): a trust policy
    /// attached to the role.
    pub fn trust_policy(&mut self, role: &str, doc: &Value) {
        let address = format!("{role} (trust policy)");
        let document = self.document(Some(doc), doc.span);
        self.input.policies.push(Policy {
            address: address.clone(),
            kind: PolicyKind::Trust,
            name: None,
            arn: None,
            document,
            resource: None,
            span: doc.span,
        });
        self.input.attachments.push(Attachment {
            policy: PolicyRef::Address(address),
            target: Target::Address(role.to_string()),
            boundary: false,
            span: doc.span,
            condition: None,
        });
    }

    /// `Policies` of a role, user or group (and the implicit role of a SAM function).
    fn inline_policies(&mut self, r: &Resource<'_>) {
        let Some(policies) = r.get("Policies") else {
            return;
        };
        if policies.is_unknown() {
            self.input.attachments.push(Attachment {
                policy: PolicyRef::Unknown(policies.clone()),
                target: Target::Address(r.id.to_string()),
                boundary: false,
                span: policies.span,
                condition: None,
            });
            return;
        }
        for (i, item) in list_items(policies).into_iter().enumerate() {
            let name = item.get("PolicyName").map(template_of);
            let label = name
                .as_ref()
                .and_then(Template::as_literal)
                .map(str::to_string)
                .unwrap_or(i.to_string());
            let address = format!("{}/Policies/{label}", r.id);
            let document = self.document(item.get("PolicyDocument"), item.span);
            self.input.policies.push(Policy {
                address: address.clone(),
                kind: PolicyKind::Inline,
                name,
                arn: None,
                document,
                resource: None,
                span: item.span,
            });
            self.input.attachments.push(Attachment {
                policy: PolicyRef::Address(address),
                target: Target::Address(r.id.to_string()),
                boundary: false,
                span: item.span,
                condition: None,
            });
        }
    }

    fn managed_arns(&mut self, r: &Resource<'_>) {
        let Some(arns) = r.get("ManagedPolicyArns") else {
            return;
        };
        for arn in list_items(arns) {
            self.input.attachments.push(Attachment {
                policy: policy_ref(arn),
                target: Target::Address(r.id.to_string()),
                boundary: false,
                span: arn.span,
                condition: None,
            });
        }
    }

    fn boundary(&mut self, r: &Resource<'_>) {
        if let Some(b) = r.get("PermissionsBoundary") {
            self.input.attachments.push(Attachment {
                policy: policy_ref(b),
                target: Target::Address(r.id.to_string()),
                boundary: true,
                span: b.span,
                condition: None,
            });
        }
    }

    /// `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy`: a document attached by name.
    fn standalone_policy(&mut self, r: &Resource<'_>, kind: PolicyKind) {
        let (name, arn) = match kind {
            PolicyKind::Managed => (Some(self.ev.name_of(r.id)), self.ev.arn_of(r.id)),
            _ => (r.get("PolicyName").map(template_of), None),
        };
        let document = self.document(r.get("PolicyDocument"), r.span);
        self.input.policies.push(Policy {
            address: r.id.to_string(),
            kind,
            name,
            arn,
            document,
            resource: None,
            span: r.span,
        });
        let targets: [(&str, TargetByName); 3] = [
            ("Roles", Target::RoleName),
            ("Users", Target::UserName),
            ("Groups", Target::GroupName),
        ];
        for (prop, make) in targets {
            if let Some(list) = r.get(prop) {
                for item in list_items(list) {
                    self.input.attachments.push(Attachment {
                        policy: PolicyRef::Address(r.id.to_string()),
                        target: make(template_of(item)),
                        boundary: false,
                        span: item.span,
                        condition: None,
                    });
                }
            }
        }
    }

    /// `AWS::IAM::RolePolicy` and friends: one inline policy of a principal named by name.
    fn owned_policy(&mut self, r: &Resource<'_>, owner: &str, make: TargetByName) {
        let name = r.get("PolicyName").map(template_of);
        let document = self.document(r.get("PolicyDocument"), r.span);
        self.input.policies.push(Policy {
            address: r.id.to_string(),
            kind: PolicyKind::Inline,
            name,
            arn: None,
            document,
            resource: None,
            span: r.span,
        });
        match r.get(owner) {
            Some(target) => self.input.attachments.push(Attachment {
                policy: PolicyRef::Address(r.id.to_string()),
                target: make(template_of(target)),
                boundary: false,
                span: target.span,
                condition: None,
            }),
            None => self.note(
                format!("`{}` names no `{owner}`; the policy is attached to nobody", r.id),
                r.span,
            ),
        }
    }

    fn slr(&mut self, r: &Resource<'_>) {
        let service = r.get("AWSServiceName").map(template_of).unwrap_or_else(|| {
            Template::opaque(
                format!("{}{}.service", self.ev.scope, r.id),
                "the service is not given",
                r.entry.key_span,
            )
        });
        let protected = match r.entry.value.get("DeletionPolicy") {
            None => Protection::Unprotected,
            Some(raw) => match self.ev.resolve(raw) {
                None => Protection::Unprotected,
                Some(v) => match v.as_str() {
                    Some("Retain" | "RetainExceptOnCreate") => Protection::Protected(v.span),
                    Some(_) => Protection::Unprotected,
                    None => Protection::Unknown(v),
                },
            },
        };
        self.input.slrs.push(ServiceLinkedRole {
            address: r.id.to_string(),
            service,
            custom_suffix: r.get("CustomSuffix").map(template_of),
            protected,
            span: r.span,
        });
    }

    fn table(&mut self, r: &Resource<'_>) {
        let name = self.ev.name_of(r.id);
        let arn = self.ev.arn_of(r.id).unwrap_or_default();
        self.input.tables.push(Table {
            address: r.id.to_string(),
            name,
            arn: arn.clone(),
            span: r.span,
        });
        if let Some(spec) = r.props.entry("KinesisStreamSpecification") {
            self.destination(r.id, spec);
        }
        if let Some(policy) = r.get("ResourcePolicy") {
            self.resource_policy(format!("{}/ResourcePolicy", r.id), policy, arn);
        }
    }

    /// The table's `KinesisStreamSpecification`, as destination `<table>/KinesisStreamSpecification`.
    fn destination(&mut self, table: &str, spec: &Entry) {
        let stream_arn = match &spec.value.kind {
            ValueKind::Unknown(_) => spec.value.clone(),
            _ => spec.value.get("StreamArn").cloned().unwrap_or_else(|| {
                Value::unknown("StreamArn", "the stream specification names no stream", spec.value.span)
            }),
        };
        self.input.destinations.push(Destination {
            address: format!("{table}/KinesisStreamSpecification"),
            table: TableRef::Address(table.to_string()),
            stream_arn,
            span: spec.key_span.join(spec.value.span),
        });
    }

    fn resource_policy(&mut self, address: String, policy: &Value, resource: Template) {
        let doc = match &policy.kind {
            ValueKind::Map(_) => policy.get("PolicyDocument"),
            _ => Some(policy),
        };
        let document = self.document(doc, policy.span);
        self.input.policies.push(Policy {
            address,
            kind: PolicyKind::Resource,
            name: None,
            arn: None,
            document,
            resource: Some(resource),
            span: policy.span,
        });
    }

    /// One table record per replica, `<LogicalId>[<region>]` (`[<index>]` when the region
    /// is not literal), each with its own ARN, destination and resource policy. Without
    /// readable replicas, one table record for the stack's own region.
    fn global_table(&mut self, r: &Resource<'_>) {
        let name = self.ev.name_of(r.id);
        let replicas = r.get("Replicas");
        let items = replicas.and_then(Value::as_list).unwrap_or_default();
        if items.is_empty() {
            if let Some(v) = replicas.filter(|v| v.is_unknown()) {
                self.note(
                    format!(
                        "the replicas of `{}` are not known statically; it is read as one table in the stack's region",
                        r.id
                    ),
                    v.span,
                );
            }
            let arn = self.ev.arn_of(r.id).unwrap_or_default();
            self.input.tables.push(Table {
                address: r.id.to_string(),
                name,
                arn,
                span: r.span,
            });
            return;
        }
        let mut labels: Vec<String> = Vec::new();
        for (i, replica) in items.iter().enumerate() {
            let region = replica.get("Region").map(template_of);
            let mut label = region
                .as_ref()
                .and_then(Template::as_literal)
                .map(str::to_string)
                .unwrap_or(i.to_string());
            if labels.contains(&label) {
                label = format!("{label}#{i}");
            }
            labels.push(label.clone());
            let address = format!("{}[{label}]", r.id);
            let arn = crate::iam::arn::table(region.as_ref(), &name);
            self.input.tables.push(Table {
                address: address.clone(),
                name: name.clone(),
                arn: arn.clone(),
                span: replica.span,
            });
            if let Some(spec) = replica.entry("KinesisStreamSpecification") {
                self.destination(&address, spec);
            }
            if let Some(policy) = replica.get("ResourcePolicy") {
                self.resource_policy(format!("{address}/ResourcePolicy"), policy, arn);
            }
        }
    }

    fn simple_table(&mut self, r: &Resource<'_>) {
        let name = self.ev.name_of(r.id);
        let arn = self.ev.arn_of(r.id).unwrap_or_default();
        self.input.tables.push(Table {
            address: r.id.to_string(),
            name,
            arn,
            span: r.span,
        });
    }

    fn stream(&mut self, r: &Resource<'_>) {
        let name = self.ev.name_of(r.id);
        let arn = self.ev.arn_of(r.id).unwrap_or_default();
        let kms_key = r.get("StreamEncryption").and_then(|enc| match &enc.kind {
            ValueKind::Unknown(_) => Some(enc.clone()),
            _ => match enc.get("EncryptionType").and_then(Value::as_str) {
                Some("NONE") => None,
                _ => enc.get("KeyId").cloned(),
            },
        });
        self.input.streams.push(Stream {
            address: r.id.to_string(),
            name,
            arn,
            kms_key,
            span: r.span,
        });
    }

    fn stream_policy(&mut self, r: &Resource<'_>) {
        let resource = r.get("ResourceArn").map(template_of).unwrap_or_else(|| {
            Template::opaque(
                format!("{}{}.ResourceArn", self.ev.scope, r.id),
                "the policy names no stream",
                r.entry.key_span,
            )
        });
        let document = self.document(r.get("ResourcePolicy"), r.span);
        self.input
            .policies
            .push(Policy::resource(r.id, document, resource, r.span));
    }

    fn key(&mut self, r: &Resource<'_>) {
        let arn = self.ev.arn_of(r.id).unwrap_or_default();
        let id = self.ev.key_id_of(r.id);
        self.input.keys.push(Key {
            address: r.id.to_string(),
            arn: arn.clone(),
            id,
            span: r.span,
        });
        if let Some(policy) = r.get("KeyPolicy") {
            let document = self.document(Some(policy), r.span);
            self.input.policies.push(Policy {
                address: format!("{}/KeyPolicy", r.id),
                kind: PolicyKind::Resource,
                name: None,
                arn: None,
                document,
                resource: Some(arn),
                span: policy.span,
            });
        }
    }

    fn org_policy(&mut self, r: &Resource<'_>) {
        match r.get("Type").and_then(Value::as_str) {
            Some("SERVICE_CONTROL_POLICY") => {}
            other => {
                let what = other.unwrap_or("unknown");
                self.note(
                    format!("organizations policy `{}` of type `{what}` is not modelled", r.id),
                    r.span,
                );
                return;
            }
        }
        let document = self.document(r.get("Content"), r.span);
        self.input.policies.push(Policy {
            address: r.id.to_string(),
            kind: PolicyKind::Scp,
            name: r.get("Name").map(template_of),
            arn: None,
            document,
            resource: None,
            span: r.span,
        });
        if let Some(targets) = r.get("TargetIds") {
            for t in list_items(targets) {
                self.input.attachments.push(Attachment {
                    policy: PolicyRef::Address(r.id.to_string()),
                    target: Target::Organization(template_of(t)),
                    boundary: false,
                    span: t.span,
                    condition: None,
                });
            }
        }
    }
}

/// How many records of each kind an input held before a resource was read, so that
/// the records it added can be given the resource's CDK construct path.
struct RecordCounts([usize; 8]);

impl RecordCounts {
    fn of(input: &Input) -> RecordCounts {
        RecordCounts([
            input.principals.len(),
            input.groups.len(),
            input.policies.len(),
            input.tables.len(),
            input.streams.len(),
            input.destinations.len(),
            input.keys.len(),
            input.slrs.len(),
        ])
    }

    fn name_new_records(&self, input: &mut Input, path: &str) {
        let [p, g, pol, t, s, d, k, slr] = self.0;
        let addresses: Vec<String> = (input.principals.iter().skip(p).map(|x| x.address.clone()))
            .chain(input.groups.iter().skip(g).map(|x| x.address.clone()))
            .chain(input.policies.iter().skip(pol).map(|x| x.address.clone()))
            .chain(input.tables.iter().skip(t).map(|x| x.address.clone()))
            .chain(input.streams.iter().skip(s).map(|x| x.address.clone()))
            .chain(input.destinations.iter().skip(d).map(|x| x.address.clone()))
            .chain(input.keys.iter().skip(k).map(|x| x.address.clone()))
            .chain(input.slrs.iter().skip(slr).map(|x| x.address.clone()))
            .collect();
        for a in addresses {
            input.construct_paths.entry(a).or_insert_with(|| path.to_string());
        }
    }
}

/// Makes every statement of a document hold only under the resource's undecided
/// condition: an unknown `Condition` entry naming it, so grants become `conditional` and
/// Denies do not count as certain.
fn mark_conditional(doc: &mut Value, condition: &str, span: Span) {
    let unknown = Value::unknown(
        format!("Condition {condition}"),
        format!(
            "the resource exists only when condition `{condition}` holds, which depends on values not known statically"
        ),
        span,
    );
    let ValueKind::Map(entries) = &mut doc.kind else {
        return;
    };
    for e in entries.iter_mut().filter(|e| e.key == "Statement") {
        let statements: Vec<&mut Value> = match &mut e.value.kind {
            ValueKind::List(items) => items.iter_mut().collect(),
            ValueKind::Map(_) => vec![&mut e.value],
            _ => Vec::new(),
        };
        for st in statements {
            crate::load::document::hold_only_if(st, "Fn::If", span, unknown.clone());
        }
    }
}

/// The items of a list; a single value stands for a list of one (an unknown list too).
pub(crate) fn list_items(v: &Value) -> Vec<&Value> {
    match &v.kind {
        ValueKind::List(items) => items.iter().collect(),
        ValueKind::Null => Vec::new(),
        _ => vec![v],
    }
}

/// A managed policy named by ARN (or an unresolvable reference).
pub(crate) fn policy_ref(v: &Value) -> PolicyRef {
    match &v.kind {
        ValueKind::Str(t) => PolicyRef::Arn(t.clone()),
        _ => PolicyRef::Unknown(v.clone()),
    }
}

/// The ARN of an AWS managed policy.
pub fn aws_managed_arn(name: &str) -> Template {
    crate::iam::arn::aws_managed_policy(&format!("/{name}"))
}
