//! Terraform resources into model records, and the attributes the AWS provider computes
//! from configuration (ARNs, ids, generated names).

use std::collections::BTreeMap;

use super::eval::{Eval, Expansion, InstKey, ReadJson, Res, unknown_reason};
use crate::model::{
    Attachment, Destination, Diagnostic, Group, Input, Key, Membership, Policy, PolicyKind, PolicyRef, Principal,
    PrincipalKind, Protection, ServiceLinkedRole, Stream, Table, TableRef, Target,
};
use crate::source::Span;
use crate::value::{Entry, Symbol, Template, Value, ValueKind};

/// Data sources whose attributes the evaluator resolves.
const KNOWN_DATA: &[&str] = &[
    "aws_caller_identity",
    "aws_region",
    "aws_partition",
    "aws_iam_policy_document",
    // AWS managed policies, by name or ARN (customer managed ones stay unknown).
    "aws_iam_policy",
];

/// Resource types counted per input and reported once, because they are not modelled.
#[derive(Default)]
pub(crate) struct Unmodelled {
    /// `(kind and type) -> (count, first span, first seen order)`.
    seen: BTreeMap<String, (usize, Span, usize)>,
}

impl Unmodelled {
    fn add(&mut self, what: String, span: Span) {
        let order = self.seen.len();
        let e = self.seen.entry(what).or_insert((0, span, order));
        e.0 += 1;
    }

    /// Adds the counts of a later part of the same module (its types first seen there keep
    /// their order after this one's).
    pub fn merge(&mut self, later: Unmodelled) {
        let mut items: Vec<(String, (usize, Span, usize))> = later.seen.into_iter().collect();
        items.sort_by_key(|(_, (_, _, order))| *order);
        for (what, (count, span, _)) in items {
            let order = self.seen.len();
            self.seen.entry(what).or_insert((0, span, order)).0 += count;
        }
    }

    /// One note per type, in order of first occurrence.
    pub(crate) fn into_notes(self) -> Vec<Diagnostic> {
        let mut items: Vec<(String, (usize, Span, usize))> = self.seen.into_iter().collect();
        items.sort_by_key(|(_, (_, _, order))| *order);
        items
            .into_iter()
            .map(|(what, (count, span, _))| {
                let s = if count == 1 { "" } else { "s" };
                let (kind, rtype) = what.split_once('|').unwrap_or(("resource", what.as_str()));
                Diagnostic::note(
                    format!("{count} {kind}{s} of type {rtype} not modelled (not relevant to replication access)"),
                    span,
                )
            })
            .collect()
    }
}

/// Adds every resource instance a module declares to `input`.
/// `seen` collects each resource's address without instance key (so that a merged plan
/// adds only what the configuration does not declare).
pub(crate) fn extract(
    ev: &Eval,
    input: &mut Input,
    unmodelled: &mut Unmodelled,
    seen: &mut std::collections::BTreeSet<String>,
) {
    extract_range(ev, 0..ev.m.resources.len(), input, unmodelled, seen);
}

/// [`extract`] for the resources at indexes `range` of the module, in order.
pub(crate) fn extract_range(
    ev: &Eval,
    range: std::ops::Range<usize>,
    input: &mut Input,
    unmodelled: &mut Unmodelled,
    seen: &mut std::collections::BTreeSet<String>,
) {
    let resources = ev.m.resources.get(range.clone()).unwrap_or_default();
    for (idx, res) in range.zip(resources) {
        seen.insert(ev.address(res, &InstKey::None));
        if res.data {
            if !KNOWN_DATA.contains(&res.rtype.as_str()) {
                unmodelled.add(format!("data source|{}", res.rtype), res.span);
            }
            continue;
        }
        if !is_modelled(&res.rtype) {
            unmodelled.add(format!("resource|{}", res.rtype), res.span);
            continue;
        }
        let expansion = ev.expansion(idx);
        if let Expansion::Unknown(why) = &expansion {
            let reason = unknown_reason(why).unwrap_or("not known");
            ev.note(
                format!(
                    "the instances of {} are not known ({reason}); analysed as one instance with unknown count/each values",
                    ev.address(res, &InstKey::None)
                ),
                why.span,
            );
        }
        for key in Eval::instance_keys(&expansion) {
            let obj = ev.instance_object(idx, &key);
            let address = ev.address(res, &key);
            map_resource(ev, res, &address, &obj, input);
        }
    }
}

/// Maps one resource instance whose attribute values are already known (a plan).
pub(crate) fn map_instance(
    ev: &Eval,
    res: &Res,
    address: &str,
    obj: &Value,
    input: &mut Input,
    unmodelled: &mut Unmodelled,
) {
    if res.data {
        return;
    }
    if !is_modelled(&res.rtype) {
        unmodelled.add(format!("resource|{}", res.rtype), res.span);
        return;
    }
    map_resource(ev, res, address, obj, input);
}

fn is_modelled(rtype: &str) -> bool {
    mapper(rtype).is_some()
}

/// One resource instance being mapped: its attributes and how to read them.
struct Mapping<'a, 'e> {
    ev: &'a Eval<'e>,
    res: &'a Res,
    address: &'a str,
    obj: &'a Value,
    span: Span,
}

impl Mapping<'_, '_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.obj.get(key)
    }
    /// Attribute `key` as a template, if set.
    fn t(&self, key: &str) -> Option<Template> {
        self.get(key).map(|v| template_of(self.ev, v))
    }
    /// Attribute `key` as a template; unset, an opaque value naming it.
    fn tt(&self, key: &str) -> Template {
        self.t(key).unwrap_or_else(|| {
            Template::opaque(
                format!("{}.{key}", self.address),
                format!("{key} is not set"),
                self.span,
            )
        })
    }
    /// The policy document in attribute `key`; unset, an unknown that says so.
    fn document(&self, key: &str, missing: &str, input: &mut Input) -> Value {
        match self.get(key) {
            Some(d) => policy_doc(self.ev, d, input),
            None => Value::unknown(self.address, missing, self.span),
        }
    }
    /// The policy an attachment names in attribute `key`.
    fn policy_ref(&self, key: &str) -> PolicyRef {
        match self.get(key) {
            Some(v) => policy_ref(v),
            None => PolicyRef::Unknown(Value::unknown(self.address, format!("{key} is not set"), self.span)),
        }
    }
}

type Mapper = fn(&Mapping<'_, '_>, &mut Input);

/// The modelled resource types and their mappers, sorted by type (a test keeps them sorted).
const MAPPERS: &[(&str, Mapper)] = &[
    ("aws_dynamodb_kinesis_streaming_destination", streaming_destination),
    ("aws_dynamodb_resource_policy", resource_policy),
    ("aws_dynamodb_table", table),
    ("aws_iam_group", group),
    ("aws_iam_group_membership", group_membership),
    ("aws_iam_group_policy", owned_policy),
    ("aws_iam_group_policy_attachment", owned_attachment),
    ("aws_iam_policy", managed_policy),
    ("aws_iam_policy_attachment", multi_attachment),
    ("aws_iam_role", principal),
    ("aws_iam_role_policy", owned_policy),
    ("aws_iam_role_policy_attachment", owned_attachment),
    ("aws_iam_service_linked_role", service_linked_role),
    ("aws_iam_user", principal),
    ("aws_iam_user_group_membership", user_group_membership),
    ("aws_iam_user_policy", owned_policy),
    ("aws_iam_user_policy_attachment", owned_attachment),
    ("aws_kinesis_resource_policy", resource_policy),
    ("aws_kinesis_stream", stream),
    ("aws_kms_key", kms_key),
    ("aws_kms_key_policy", kms_key_policy),
    ("aws_organizations_policy", organizations_policy),
    ("aws_organizations_policy_attachment", organizations_attachment),
];

fn mapper(rtype: &str) -> Option<Mapper> {
    let i = MAPPERS.binary_search_by(|(t, _)| (*t).cmp(rtype)).ok()?;
    MAPPERS.get(i).map(|(_, m)| *m)
}

fn map_resource(ev: &Eval, res: &Res, address: &str, obj: &Value, input: &mut Input) {
    if let Some(map) = mapper(&res.rtype) {
        let m = Mapping {
            ev,
            res,
            address,
            obj,
            span: res.span,
        };
        map(&m, input);
    }
}

/// `aws_iam_role` and `aws_iam_user`, with their inline policies, managed policy ARNs and
/// permissions boundary.
fn principal(m: &Mapping<'_, '_>, input: &mut Input) {
    let kind = if m.res.rtype == "aws_iam_role" {
        PrincipalKind::Role
    } else {
        PrincipalKind::User
    };
    input.principals.push(Principal {
        address: m.address.to_string(),
        kind,
        name: m.tt("name"),
        arn: m.tt("arn"),
        span: m.span,
    });
    let attach = |input: &mut Input, policy: PolicyRef, boundary: bool, span: Span| {
        input.attachments.push(Attachment {
            policy,
            target: Target::Address(m.address.to_string()),
            boundary,
            span,
            condition: None,
        });
    };
    if let Some(doc) = m.get("assume_role_policy").filter(|_| kind == PrincipalKind::Role) {
        let paddr = format!("{} (trust policy)", m.address);
        let document = policy_doc(m.ev, doc, input);
        input.policies.push(Policy {
            address: paddr.clone(),
            kind: PolicyKind::Trust,
            name: None,
            arn: None,
            document,
            resource: None,
            span: doc.span,
        });
        attach(input, PolicyRef::Address(paddr), false, doc.span);
    }
    if let Some(items) = m.get("inline_policy").and_then(Value::as_list) {
        for (i, ip) in items.iter().enumerate() {
            let Some(doc) = ip.get("policy") else { continue };
            let name = ip.get("name").map(|v| template_of(m.ev, v));
            let label = name
                .as_ref()
                .and_then(|n| n.as_literal().map(str::to_string))
                .unwrap_or_else(|| i.to_string());
            let paddr = format!("{}/inline_policy/{label}", m.address);
            let document = policy_doc(m.ev, doc, input);
            input.policies.push(Policy {
                address: paddr.clone(),
                kind: PolicyKind::Inline,
                name,
                arn: None,
                document,
                resource: None,
                span: ip.span,
            });
            attach(input, PolicyRef::Address(paddr), false, ip.span);
        }
    }
    if let Some(arns) = m.get("managed_policy_arns") {
        for (policy, at) in policy_refs(arns) {
            attach(input, policy, false, at);
        }
    }
    // The provider sends a boundary only when the value is non-empty (`""` removes it), so
    // `""` is no boundary, as `null` is.
    if let Some(b) = m.get("permissions_boundary").filter(|b| !is_unset(b)) {
        attach(input, policy_ref(b), true, b.span);
    }
}

fn group(m: &Mapping<'_, '_>, input: &mut Input) {
    input.groups.push(Group {
        address: m.address.to_string(),
        name: m.tt("name"),
        span: m.span,
    });
}

fn group_membership(m: &Mapping<'_, '_>, input: &mut Input) {
    let group = m.tt("group");
    let group_address = identity(m.get("group"), "aws_iam_group");
    for user in list_of(m.get("users")) {
        input.memberships.push(Membership {
            user: template_of(m.ev, &user),
            group: group.clone(),
            user_address: identity(Some(&user), "aws_iam_user"),
            group_address: group_address.clone(),
            span: m.span,
        });
    }
}

fn user_group_membership(m: &Mapping<'_, '_>, input: &mut Input) {
    let user = m.tt("user");
    let user_address = identity(m.get("user"), "aws_iam_user");
    for group in list_of(m.get("groups")) {
        input.memberships.push(Membership {
            user: user.clone(),
            group: template_of(m.ev, &group),
            user_address: user_address.clone(),
            group_address: identity(Some(&group), "aws_iam_group"),
            span: m.span,
        });
    }
}

fn managed_policy(m: &Mapping<'_, '_>, input: &mut Input) {
    let document = m.document("policy", "the policy has no document", input);
    input.policies.push(Policy {
        address: m.address.to_string(),
        kind: PolicyKind::Managed,
        name: Some(m.tt("name")),
        arn: Some(m.tt("arn")),
        document,
        resource: None,
        span: m.span,
    });
}

/// The attribute naming the owner of a role/user/group policy or attachment.
fn owner_of(rtype: &str) -> (&'static str, Owner) {
    if rtype.starts_with("aws_iam_role_") {
        ("role", Owner::ROLE)
    } else if rtype.starts_with("aws_iam_user_") {
        ("user", Owner::USER)
    } else {
        ("group", Owner::GROUP)
    }
}

/// `aws_iam_{role,user,group}_policy`: an inline policy and its attachment to the owner.
fn owned_policy(m: &Mapping<'_, '_>, input: &mut Input) {
    let (key, owner) = owner_of(&m.res.rtype);
    let document = m.document("policy", "the policy has no document", input);
    input.policies.push(Policy {
        address: m.address.to_string(),
        kind: PolicyKind::Inline,
        name: m.t("name"),
        arn: None,
        document,
        resource: None,
        span: m.span,
    });
    input.attachments.push(Attachment {
        policy: PolicyRef::Address(m.address.to_string()),
        target: owner.target(m.get(key), || m.tt(key)),
        boundary: false,
        span: m.span,
        condition: None,
    });
}

/// `aws_iam_{role,user,group}_policy_attachment`.
fn owned_attachment(m: &Mapping<'_, '_>, input: &mut Input) {
    let (key, owner) = owner_of(&m.res.rtype);
    input.attachments.push(Attachment {
        policy: m.policy_ref("policy_arn"),
        target: owner.target(m.get(key), || m.tt(key)),
        boundary: false,
        span: m.span,
        condition: None,
    });
}

/// `aws_iam_policy_attachment`: one policy to lists of roles, users and groups.
fn multi_attachment(m: &Mapping<'_, '_>, input: &mut Input) {
    let policy = m.policy_ref("policy_arn");
    for (key, owner) in [("roles", Owner::ROLE), ("users", Owner::USER), ("groups", Owner::GROUP)] {
        for item in list_of(m.get(key)) {
            input.attachments.push(Attachment {
                policy: policy.clone(),
                target: owner.target(Some(&item), || template_of(m.ev, &item)),
                boundary: false,
                span: m.span,
                condition: None,
            });
        }
    }
}

fn service_linked_role(m: &Mapping<'_, '_>, input: &mut Input) {
    let protected = protection(m.ev, m.res);
    input.slrs.push(ServiceLinkedRole {
        address: m.address.to_string(),
        service: m.tt("aws_service_name"),
        custom_suffix: m.t("custom_suffix"),
        protected,
        span: m.span,
    });
}

fn table(m: &Mapping<'_, '_>, input: &mut Input) {
    input.tables.push(Table {
        address: m.address.to_string(),
        name: m.tt("name"),
        arn: m.tt("arn"),
        span: m.span,
    });
    if let Some(replicas) = m.get("replica").and_then(Value::as_list)
        && let Some(first) = replicas.first()
    {
        m.ev.note(
            format!(
                "{} replica block(s) of {} are not modelled as tables yet",
                replicas.len(),
                m.address
            ),
            first.span,
        );
    }
}

fn streaming_destination(m: &Mapping<'_, '_>, input: &mut Input) {
    let stream_arn = m
        .get("stream_arn")
        .cloned()
        .unwrap_or_else(|| Value::unknown(m.address, "stream_arn is not set", m.span));
    let table = match m
        .get("table_name")
        .and_then(|v| v.origin_address("aws_dynamodb_table", NAME))
    {
        Some(table) => TableRef::Address(table.to_string()),
        None => TableRef::Name(m.tt("table_name")),
    };
    input.destinations.push(Destination {
        address: m.address.to_string(),
        table,
        stream_arn,
        span: m.span,
    });
}

/// `aws_dynamodb_resource_policy` and `aws_kinesis_resource_policy`.
fn resource_policy(m: &Mapping<'_, '_>, input: &mut Input) {
    let document = m.document("policy", "the policy has no document", input);
    input
        .policies
        .push(Policy::resource(m.address, document, m.tt("resource_arn"), m.span));
}

fn stream(m: &Mapping<'_, '_>, input: &mut Input) {
    let kms_key = match m.get("encryption_type").map(|v| (v.as_str(), v)) {
        Some((Some("KMS"), _)) => m.get("kms_key_id").cloned(),
        Some((None, v)) if v.is_unknown() => m.get("kms_key_id").cloned(),
        _ => None,
    };
    input.streams.push(Stream {
        address: m.address.to_string(),
        name: m.tt("name"),
        arn: m.tt("arn"),
        kms_key,
        span: m.span,
    });
}

fn kms_key(m: &Mapping<'_, '_>, input: &mut Input) {
    let arn = m.tt("arn");
    input.keys.push(Key {
        address: m.address.to_string(),
        arn: arn.clone(),
        id: m.tt("key_id"),
        span: m.span,
    });
    if let Some(d) = m.get("policy") {
        let document = policy_doc(m.ev, d, input);
        input
            .policies
            .push(Policy::resource(format!("{}/policy", m.address), document, arn, d.span));
    }
}

fn kms_key_policy(m: &Mapping<'_, '_>, input: &mut Input) {
    let key = m.tt("key_id");
    let resource = if key.as_literal().is_some_and(|k| k.starts_with("arn:")) {
        key
    } else {
        kms_arn(&key)
    };
    let document = m.document("policy", "the policy has no document", input);
    input
        .policies
        .push(Policy::resource(m.address, document, resource, m.span));
}

fn organizations_policy(m: &Mapping<'_, '_>, input: &mut Input) {
    let ty = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("SERVICE_CONTROL_POLICY");
    if ty != "SERVICE_CONTROL_POLICY" {
        m.ev.note(
            format!("organizations policy {} of type {ty} is not modelled", m.address),
            m.span,
        );
        return;
    }
    let document = m.document("content", "the policy has no content", input);
    input.policies.push(Policy {
        address: m.address.to_string(),
        kind: PolicyKind::Scp,
        name: m.t("name"),
        arn: None,
        document,
        resource: None,
        span: m.span,
    });
}

fn organizations_attachment(m: &Mapping<'_, '_>, input: &mut Input) {
    let policy = match m.get("policy_id") {
        Some(v) => match v.as_template().map(|t| t.parts()) {
            Some([crate::value::Part::Sym(Symbol::Opaque(o))]) if o.id.ends_with(".id") => {
                PolicyRef::Address(o.id.trim_end_matches(".id").to_string())
            }
            _ => PolicyRef::Unknown(v.clone()),
        },
        None => PolicyRef::Unknown(Value::unknown(m.address, "policy_id is not set", m.span)),
    };
    input.attachments.push(Attachment {
        policy,
        target: Target::Organization(m.tt("target_id")),
        boundary: false,
        span: m.span,
        condition: None,
    });
}

/// `lifecycle { prevent_destroy = ... }` of a resource block.
fn protection(ev: &Eval, res: &Res) -> Protection {
    if res.from_plan {
        return Protection::NotShown;
    }
    let Some(lc) = res.block.body.get_blocks("lifecycle").next() else {
        return Protection::Unprotected;
    };
    let Some(attr) = lc.body.get_attribute("prevent_destroy") else {
        return Protection::Unprotected;
    };
    let v = ev.expr(&attr.value, res.file, &super::eval::Scope::root());
    match v.as_bool() {
        Some(true) => Protection::Protected(ev.span(res.file, super::json_syntax::attr_span(attr))),
        Some(false) => Protection::Unprotected,
        None => Protection::Unknown(v),
    }
}

/// A policy document value: maps stay, JSON strings are parsed with spans into the source.
fn policy_doc(ev: &Eval, v: &Value, input: &mut Input) -> Value {
    match &v.kind {
        ValueKind::Map(_) | ValueKind::Unknown(_) => v.clone(),
        ValueKind::Str(t) => match ev.read_json(v, t, true) {
            ReadJson::Value(doc) | ReadJson::Unknown(doc) => doc,
            ReadJson::Invalid(e) => {
                if !ev.policy_file_error(&e) {
                    input.diagnostics.push(Diagnostic::warning(
                        format!("the policy is not valid JSON: {}", e.value),
                        e.span,
                    ));
                }
                Value::unknown(
                    ev.text(v.span),
                    format!("the policy is not valid JSON: {}", e.value),
                    v.span,
                )
            }
        },
        _ => Value::unknown(
            ev.text(v.span),
            format!("the policy is a {}, not a document", v.type_name()),
            v.span,
        ),
    }
}

/// A policy named by ARN: the declared policy the ARN was read from by reference
/// (`aws_iam_policy.p.arn`), else the ARN.
fn policy_ref(v: &Value) -> PolicyRef {
    if let Some(policy) = v.origin_address("aws_iam_policy", &["arn", "id"]) {
        return PolicyRef::Address(policy.to_string());
    }
    match &v.kind {
        ValueKind::Str(t) => PolicyRef::Arn(t.clone()),
        _ => PolicyRef::Unknown(v.clone()),
    }
}

/// The attributes by which a role, user, group or table is named (its `id` is its name).
const NAME: &[&str] = &["name", "id"];

/// The address of the declared `rtype` resource whose name a reference read `v` from.
fn identity(v: Option<&Value>, rtype: &str) -> Option<String> {
    v.and_then(|v| v.origin_address(rtype, NAME)).map(str::to_string)
}

/// The kind of resource an attachment or inline policy names, and how to name it.
struct Owner {
    rtype: &'static str,
    by_name: fn(Template) -> Target,
}

impl Owner {
    const ROLE: Owner = Owner {
        rtype: "aws_iam_role",
        by_name: Target::RoleName,
    };
    const USER: Owner = Owner {
        rtype: "aws_iam_user",
        by_name: Target::UserName,
    };
    const GROUP: Owner = Owner {
        rtype: "aws_iam_group",
        by_name: Target::GroupName,
    };

    /// The target a value names: the declared resource it was read from by reference
    /// (`aws_iam_role.role.name` in a module instance is that instance's role, whatever
    /// name it shares with others), else the name given by `name`.
    fn target(&self, v: Option<&Value>, name: impl FnOnce() -> Template) -> Target {
        match v.and_then(|v| v.origin_address(self.rtype, NAME)) {
            Some(address) => Target::Address(address.to_string()),
            None => (self.by_name)(name()),
        }
    }
}

/// One policy reference per element of a list of ARNs (the whole list when unknown); a
/// `null` element names no policy.
fn policy_refs(v: &Value) -> Vec<(PolicyRef, Span)> {
    match &v.kind {
        ValueKind::List(items) => items
            .iter()
            .filter(|i| !is_null(i))
            .map(|i| (policy_ref(i), i.span))
            .collect(),
        ValueKind::Null => Vec::new(),
        _ => vec![(PolicyRef::Unknown(v.clone()), v.span)],
    }
}

/// The elements of a list argument (a single value as a list of one); `null` elements are
/// not there, as Terraform's "not set".
fn list_of(v: Option<&Value>) -> Vec<Value> {
    let items = match v {
        Some(Value {
            kind: ValueKind::List(items),
            ..
        }) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    items.into_iter().filter(|i| !is_null(i)).collect()
}

fn is_null(v: &Value) -> bool {
    matches!(v.kind, ValueKind::Null)
}

/// Whether an optional string argument is unset in the provider's terms: `null`, or the
/// empty string for the arguments the AWS provider reads only when non-empty
/// (`docs/spec-notes.md`, "Empty means unset").
fn is_unset(v: &Value) -> bool {
    is_null(v) || v.as_str() == Some("")
}

/// A value as a string template; anything unknown becomes an opaque symbol.
pub(crate) fn template_of(ev: &Eval, v: &Value) -> Template {
    match &v.kind {
        ValueKind::Unknown(u) => Template::opaque(ev.opaque_id(&u.expr), u.reason.clone(), v.span),
        _ => v.to_template().unwrap_or_else(|| {
            Template::opaque(
                format!("<{}>", v.type_name()),
                format!("a {} where a string was expected", v.type_name()),
                v.span,
            )
        }),
    }
}

/// `data "aws_iam_policy"` naming an AWS managed policy the catalogue knows, by `name` or by
/// `arn`: its `arn`, `id`, `name`, `path` and `policy` (the bundled document's JSON; for a
/// policy known to cover no capability action, an empty document, as its attachment by ARN
/// is inert too). Anything else (a customer managed policy) stays unknown.
fn aws_managed_data(entries: &mut Vec<Entry>, span: Span) {
    let given = |k: &str| {
        entries
            .iter()
            .rev()
            .find(|e| e.key == k)
            .and_then(|e| e.value.as_str())
            .map(str::to_string)
    };
    let arn = given("arn");
    let name = match (&arn, given("name")) {
        (Some(arn), _) => crate::iam::arn::aws_managed_policy_name(&Template::lit(arn.as_str())),
        (None, name) => name,
    };
    let Some(known) = name.as_deref().and_then(crate::catalog::aws_managed_policy) else {
        return;
    };
    let arn = match arn {
        Some(a) => Template::lit(a),
        None => crate::iam::arn::aws_managed_policy(&format!("{}{}", known.path, known.name)),
    };
    let document = known.document.unwrap_or(r#"{"Version":"2012-10-17","Statement":[]}"#);
    for (k, v, at) in [
        ("arn", arn.clone(), span),
        ("id", arn, span),
        ("name", Template::lit(known.name), span),
        ("path", Template::lit(known.path), span),
        // The document is not in the templates: built-in spans, so that findings on its
        // statements point at where it is used, as for an attachment by ARN.
        ("policy", Template::lit(document), Span::builtin()),
    ] {
        entries.retain(|e| e.key != k);
        entries.push(Entry {
            key: k.to_string(),
            key_span: span,
            value: Value::new(ValueKind::Str(v), at),
        });
    }
}

fn arn(service: &str, regional: bool, rest: &[&Template]) -> Template {
    use crate::iam::arn::{Segment, head};
    let region = if regional { Segment::Run } else { Segment::Empty };
    let mut t = head(Segment::Run, service, region, Segment::Run);
    for r in rest {
        t.push_template(r);
    }
    t
}

fn kms_arn(key_id: &Template) -> Template {
    arn("kms", true, &[&Template::lit("key/"), key_id])
}

/// Adds the attributes the provider computes for a resource instance.
pub(crate) fn computed_attributes(ev: &Eval, res: &Res, address: &str, entries: &mut Vec<Entry>) {
    let span = res.span;
    let _ = ev;
    let get = |entries: &[Entry], k: &str| entries.iter().rev().find(|e| e.key == k).map(|e| e.value.clone());
    let set = |entries: &mut Vec<Entry>, k: &str, t: Template| {
        if !entries.iter().any(|e| e.key == k) {
            entries.push(Entry {
                key: k.to_string(),
                key_span: span,
                value: Value::new(ValueKind::Str(t), span),
            });
        }
    };
    let opaque = |what: &str, reason: &str| Template::opaque(format!("{address}.{what}"), reason, span);
    // Roles and managed policies are named by the provider's name generator, which keeps a
    // non-empty `name` and generates one otherwise (`""` included).
    let generates_name = matches!(res.rtype.as_str(), "aws_iam_role" | "aws_iam_policy");
    let name_of = |entries: &[Entry]| match get(entries, "name") {
        Some(v) if !(generates_name && is_unset(&v)) => template_of(ev, &v),
        _ => opaque("name", "the name is generated by Terraform"),
    };
    let path_of = |entries: &[Entry]| {
        get(entries, "path")
            .map(|v| template_of(ev, &v))
            .unwrap_or_else(|| Template::lit("/"))
    };
    if res.data {
        let sym = |s: Symbol| Template::sym(s);
        match res.rtype.as_str() {
            "aws_caller_identity" => {
                set(entries, "account_id", sym(Symbol::Account));
                set(entries, "id", sym(Symbol::Account));
            }
            "aws_region" => {
                for k in ["name", "region", "id"] {
                    set(entries, k, sym(Symbol::Region));
                }
            }
            "aws_partition" => {
                set(entries, "partition", sym(Symbol::Partition));
                set(entries, "id", sym(Symbol::Partition));
                set(entries, "dns_suffix", sym(Symbol::UrlSuffix));
            }
            "aws_iam_policy" => aws_managed_data(entries, span),
            _ => {}
        }
        return;
    }
    match res.rtype.as_str() {
        "aws_iam_role" | "aws_iam_user" | "aws_iam_group" | "aws_iam_policy" => {
            let kind = res.rtype.trim_start_matches("aws_iam_");
            let name = name_of(entries);
            if generates_name {
                entries.retain(|e| !(e.key == "name" && is_unset(&e.value)));
            }
            let path = path_of(entries);
            let a = arn("iam", false, &[&Template::lit(kind), &path, &name]);
            set(entries, "name", name.clone());
            set(entries, "arn", a.clone());
            set(entries, "id", if kind == "policy" { a } else { name });
            set(entries, "unique_id", opaque("unique_id", "assigned by AWS"));
        }
        "aws_dynamodb_table" => {
            let name = name_of(entries);
            set(
                entries,
                "arn",
                arn("dynamodb", true, &[&Template::lit("table/"), &name]),
            );
            set(entries, "id", name.clone());
            set(entries, "name", name);
        }
        "aws_kinesis_stream" => {
            let name = name_of(entries);
            let a = arn("kinesis", true, &[&Template::lit("stream/"), &name]);
            set(entries, "arn", a.clone());
            set(entries, "id", a);
            set(entries, "name", name);
        }
        "aws_kms_key" => {
            let id = opaque("key_id", "assigned by AWS");
            set(entries, "arn", kms_arn(&id));
            set(entries, "key_id", id.clone());
            set(entries, "id", id);
        }
        "aws_organizations_policy" => {
            set(entries, "id", opaque("id", "assigned by AWS Organizations"));
        }
        "aws_iam_service_linked_role" => {
            let service = get(entries, "aws_service_name")
                .map(|v| template_of(ev, &v))
                .unwrap_or_default();
            let name = opaque("name", "derived from the service by AWS");
            let path = {
                let mut p = Template::lit("/aws-service-role/");
                p.push_template(&service);
                p.push_str("/");
                p
            };
            set(
                entries,
                "arn",
                arn("iam", false, &[&Template::lit("role"), &path, &name]),
            );
            set(entries, "name", name);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapper_table_is_sorted_and_names_each_type_once() {
        for pair in MAPPERS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} must come after {}", pair[0].0, pair[1].0);
        }
        assert!(is_modelled("aws_iam_role") && is_modelled("aws_kms_key_policy"));
        assert!(!is_modelled("aws_s3_bucket"));
    }
}
