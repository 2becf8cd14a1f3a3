//! Intrinsic functions, parameters, conditions and mappings: template values into
//! resolved [`Value`]s and [`Template`]s.
//!
//! **Invariant:** every reference to a resource's name or ARN yields an equal template,
//! because generated names are opaque symbols whose id, reason and span are fixed per
//! resource (`"<LogicalId>.name"`, the logical id's span). Evaluation never loops:
//! conditions and resource names are memoised with an in-progress marker, and nesting is
//! bounded by [`MAX_EVAL_DEPTH`].

use std::collections::BTreeMap;

use super::Nesting;
use crate::model::Diagnostic;
use crate::source::{SourceMap, Span};
use crate::value::UnknownInJson;
use crate::value::{Entry, Part, Symbol, Template, Value, ValueKind};

/// Resource types whose `Fn::GetAtt <id>.Outputs.<name>` reads a child template.
pub(crate) const STACK_TYPES: &[&str] = &["AWS::CloudFormation::Stack", "AWS::Serverless::Application"];

/// Deepest nesting of values and intrinsic calls that is evaluated.
pub(crate) const MAX_EVAL_DEPTH: usize = 200;

/// The service-linked role this analyzer is about, and its fixed name.
pub(crate) const KDS_SERVICE: &str = "kinesisreplication.dynamodb.amazonaws.com";
pub(crate) const KDS_SLR_NAME: &str = "AWSServiceRoleForDynamoDBKinesisDataStreamsReplication";

/// A resource as references see it.
#[derive(Clone, Debug)]
pub(crate) struct ResourceInfo<'a> {
    pub(crate) ty: String,
    pub properties: Option<&'a Value>,
    /// The logical id's key span: the span of every opaque symbol about this resource.
    pub(crate) id_span: Span,
}

/// A parameter declaration.
#[derive(Clone, Debug)]
pub(crate) struct ParamInfo<'a> {
    pub(crate) decl: &'a Value,
    pub(crate) key_span: Span,
}

/// What a nested stack's child template is read with, to evaluate its `Outputs`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StackContext<'a> {
    pub nesting: &'a Nesting,
    pub sources: &'a SourceMap,
}

/// The `Outputs` of a nested stack's child template, evaluated in the child's scope.
#[derive(Clone, Debug, Default)]
pub(crate) struct StackOutputs {
    /// The child template's display path.
    pub display: String,
    pub outputs: BTreeMap<String, StackOutput>,
}

/// One output: its value (`None`: `AWS::NoValue`) and the notes its evaluation gave,
/// passed on the first time a reference reads it.
#[derive(Clone, Debug)]
pub(crate) struct StackOutput {
    pub value: Option<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
enum Memo<T> {
    InProgress,
    Done(T),
}

/// Resolves values of one template.
pub(crate) struct Evaluator<'a> {
    pub resources: BTreeMap<String, ResourceInfo<'a>>,
    pub params: BTreeMap<String, ParamInfo<'a>>,
    pub overrides: BTreeMap<String, String>,
    pub(crate) mappings: Option<&'a Value>,
    pub conditions: BTreeMap<String, &'a Value>,
    /// Parameter values a parent stack passes (`AWS::CloudFormation::Stack` `Parameters`);
    /// when set, `overrides` do not apply (they are the root stack's).
    pub given: Option<BTreeMap<String, Value>>,
    /// Prefix of every opaque id this template makes (`""` at the root, `"Child/"` in a
    /// nested stack), so that equal logical ids in two stacks stay distinct values.
    pub scope: String,
    /// Where the template sits, so that `Fn::GetAtt <Stack>.Outputs.<Name>` can read the
    /// child template; `None` evaluates those as opaque values.
    pub(crate) stacks: Option<StackContext<'a>>,
    /// The `RolePath` a SAM function or state machine gives its implicit role, by the
    /// role's logical id (`<LogicalId>Role`).
    pub(crate) implicit_role_paths: BTreeMap<String, &'a Value>,
    pub diagnostics: Vec<Diagnostic>,
    stack_memo: BTreeMap<String, Memo<Result<StackOutputs, super::nested::Unread>>>,
    condition_memo: BTreeMap<String, Memo<Option<bool>>>,
    prop_memo: BTreeMap<(String, String), Memo<Option<Value>>>,
    depth: usize,
}

impl<'a> Evaluator<'a> {
    pub fn new() -> Evaluator<'a> {
        Evaluator {
            resources: BTreeMap::new(),
            params: BTreeMap::new(),
            overrides: BTreeMap::new(),
            mappings: None,
            conditions: BTreeMap::new(),
            given: None,
            scope: String::new(),
            stacks: None,
            implicit_role_paths: BTreeMap::new(),
            diagnostics: Vec::new(),
            stack_memo: BTreeMap::new(),
            condition_memo: BTreeMap::new(),
            prop_memo: BTreeMap::new(),
            depth: 0,
        }
    }

    /// Resolves every intrinsic in `v`. `None` means the value is `AWS::NoValue` (the
    /// property or list item is removed).
    pub fn resolve(&mut self, v: &Value) -> Option<Value> {
        if self.depth >= MAX_EVAL_DEPTH {
            return Some(Value::unknown(
                "…",
                format!("nested deeper than {MAX_EVAL_DEPTH} levels; not evaluated"),
                v.span,
            ));
        }
        self.depth += 1;
        let out = self.resolve_inner(v);
        self.depth -= 1;
        out
    }

    fn resolve_inner(&mut self, v: &Value) -> Option<Value> {
        match &v.kind {
            ValueKind::Map(entries) => {
                if let [entry] = entries.as_slice()
                    && is_intrinsic(&entry.key)
                {
                    return self.intrinsic(entry, v.span);
                }
                let mut out = Vec::with_capacity(entries.len());
                for entry in entries {
                    if entry.key.starts_with("Fn::ForEach::") {
                        self.diagnostics.push(Diagnostic::note(
                            format!("`{}` (AWS::LanguageExtensions loop) is not expanded", entry.key),
                            entry.key_span,
                        ));
                        continue;
                    }
                    if let Some(value) = self.resolve(&entry.value) {
                        out.push(Entry {
                            key: entry.key.clone(),
                            key_span: entry.key_span,
                            value,
                        });
                    }
                }
                Some(Value::new(ValueKind::Map(out), v.span))
            }
            ValueKind::List(items) => {
                let out = items.iter().filter_map(|i| self.resolve(i)).collect();
                Some(Value::new(ValueKind::List(out), v.span))
            }
            _ => Some(v.clone()),
        }
    }

    fn intrinsic(&mut self, entry: &Entry, span: Span) -> Option<Value> {
        let arg = &entry.value;
        let name = entry.key.as_str();
        match name {
            "Ref" => {
                let target = self.resolve(arg)?;
                match target.as_str() {
                    Some(t) => self.ref_name(t, span),
                    None => Some(self.bad_arg(name, "a name", arg, span)),
                }
            }
            "Fn::GetAtt" => self.get_att_expr(arg, span),
            "Fn::Sub" => Some(self.sub(arg, span)),
            "Fn::Join" => Some(self.join(arg, span)),
            "Fn::Select" => self.select(arg, span),
            "Fn::Split" => Some(self.split(arg, span)),
            "Fn::If" => self.fn_if(arg, span),
            "Fn::FindInMap" => self.find_in_map(arg, span),
            "Fn::ImportValue" => {
                let target = self.resolve(arg)?;
                Some(match target.as_str() {
                    Some(export) => Value::new(
                        ValueKind::Str(Template::opaque(
                            format!("Fn::ImportValue:{export}"),
                            format!("imported from the stack that exports `{export}`"),
                            Span::builtin(),
                        )),
                        span,
                    ),
                    None => Value::unknown("Fn::ImportValue", "imported from another stack", span),
                })
            }
            "Fn::GetAZs" => Some(Value::unknown(
                "Fn::GetAZs",
                "availability zones are known only at deployment",
                span,
            )),
            "Fn::Cidr" => Some(Value::unknown("Fn::Cidr", "CIDR blocks are not computed", span)),
            "Fn::Base64" => {
                let inner = self.resolve(arg)?;
                Some(match inner.as_str() {
                    Some(s) => Value::str(base64(s.as_bytes()), span),
                    None => Value::unknown("Fn::Base64", "encodes a value that is not a literal string", span),
                })
            }
            "Fn::Length" => {
                let inner = self.resolve(arg)?;
                Some(match inner.as_list() {
                    Some(items) => Value::new(ValueKind::Number(items.len().to_string()), span),
                    None => Value::unknown("Fn::Length", "the length of a list that is not known", span),
                })
            }
            "Fn::ToJsonString" => {
                let inner = self.resolve(arg)?;
                Some(match inner.to_json(MAX_EVAL_DEPTH, UnknownInJson::Fail) {
                    Some(out) => Value::new(ValueKind::Str(out), span),
                    None => Value::unknown("Fn::ToJsonString", "the value holds unknowns", span),
                })
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let wrapper = Value::new(ValueKind::Map(vec![entry.clone()]), span);
                Some(match self.condition_value(&wrapper) {
                    Some(b) => Value::new(ValueKind::Bool(b), span),
                    None => Value::unknown(name, "a condition that depends on values not known statically", span),
                })
            }
            "Fn::Transform" => {
                self.diagnostics.push(Diagnostic::note(
                    "`Fn::Transform` (a macro) is not expanded; its value is unknown",
                    entry.key_span,
                ));
                Some(Value::unknown(name, "macro output is not known statically", span))
            }
            _ => {
                self.diagnostics.push(Diagnostic::note(
                    format!("intrinsic function `{name}` is not supported; its value is unknown"),
                    entry.key_span,
                ));
                Some(Value::unknown(name, format!("`{name}` is not supported"), span))
            }
        }
    }

    fn bad_arg(&mut self, function: &str, expected: &str, arg: &Value, span: Span) -> Value {
        self.diagnostics.push(Diagnostic::note(
            format!(
                "`{function}` expects {expected}, found a {}; its value is unknown",
                arg.type_name()
            ),
            arg.span,
        ));
        Value::unknown(
            function,
            format!("`{function}` with an argument that is not {expected}"),
            span,
        )
    }

    /// `Ref` of a pseudo parameter, parameter or resource.
    pub(crate) fn ref_name(&mut self, name: &str, span: Span) -> Option<Value> {
        let str_value = |t: Template| Value::new(ValueKind::Str(t), span);
        match name {
            "AWS::AccountId" => return Some(str_value(Template::sym(Symbol::Account))),
            "AWS::Region" => return Some(str_value(Template::sym(Symbol::Region))),
            "AWS::Partition" => return Some(str_value(Template::sym(Symbol::Partition))),
            "AWS::URLSuffix" => return Some(str_value(Template::sym(Symbol::UrlSuffix))),
            "AWS::NoValue" => return None,
            "AWS::StackName" | "AWS::StackId" => {
                return Some(str_value(Template::opaque(
                    format!("{}{name}", self.scope),
                    "chosen when the stack is deployed",
                    Span::builtin(),
                )));
            }
            "AWS::NotificationARNs" => {
                return Some(Value::unknown(name, "chosen when the stack is deployed", span));
            }
            _ => {}
        }
        if self.params.contains_key(name) {
            return Some(self.param_value(name, span));
        }
        if self.resources.contains_key(name) {
            return Some(self.resource_ref(name, span));
        }
        self.diagnostics.push(Diagnostic::note(
            format!("`Ref` to `{name}`, which the template does not declare"),
            span,
        ));
        Some(Value::unknown(
            format!("Ref {name}"),
            format!("`{name}` is not declared"),
            span,
        ))
    }

    fn param_value(&mut self, name: &str, span: Span) -> Value {
        let Some(param) = self.params.get(name).cloned() else {
            return Value::unknown(format!("Ref {name}"), "undeclared parameter", span);
        };
        let ty = param
            .decl
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("String")
            .to_string();
        let is_list = ty == "CommaDelimitedList" || ty.starts_with("List<");
        let from_ssm = ty.starts_with("AWS::SSM::Parameter::Value");
        let given = match &self.given {
            Some(from_parent) => from_parent.get(name).cloned(),
            None => self.overrides.get(name).map(|text| Value::str(text.clone(), span)),
        };
        let value = if from_ssm && given.is_none() {
            None
        } else if given.is_some() {
            given
        } else {
            param.decl.get("Default").and_then(|d| self.resolve(d))
        };
        match value {
            Some(v) => {
                let v = Value { span, ..v };
                if is_list && let Some(text) = v.as_str() {
                    let items = text.split(',').map(|s| Value::str(s.trim(), span)).collect();
                    return Value::new(ValueKind::List(items), span);
                }
                v
            }
            None if is_list => Value::unknown(
                format!("Ref {name}"),
                format!("parameter `{name}` has no value (no --parameter and no Default)"),
                span,
            ),
            None => Value::new(
                ValueKind::Str(Template::opaque(
                    format!("{}{name}", self.scope),
                    if from_ssm {
                        format!("parameter `{name}` is read from SSM at deployment")
                    } else {
                        format!("parameter `{name}` has no value (no --parameter and no Default)")
                    },
                    param.key_span,
                )),
                span,
            ),
        }
    }

    /// A resource property resolved once; `None` when absent (or `AWS::NoValue`).
    pub fn prop(&mut self, id: &str, prop: &str) -> Option<Value> {
        let key = (id.to_string(), prop.to_string());
        match self.prop_memo.get(&key) {
            Some(Memo::Done(v)) => return v.clone(),
            Some(Memo::InProgress) => {
                let span = self.resources.get(id).map(|r| r.id_span).unwrap_or_default();
                self.diagnostics.push(Diagnostic::note(
                    format!("`{id}.{prop}` refers to itself; its value is unknown"),
                    span,
                ));
                return Some(Value::unknown(format!("{id}.{prop}"), "circular reference", span));
            }
            None => {}
        }
        let raw = self
            .resources
            .get(id)
            .and_then(|r| r.properties)
            .and_then(|p| p.get(prop));
        let Some(raw) = raw else {
            self.prop_memo.insert(key, Memo::Done(None));
            return None;
        };
        self.prop_memo.insert(key.clone(), Memo::InProgress);
        let v = self.resolve(raw);
        self.prop_memo.insert(key, Memo::Done(v.clone()));
        v
    }

    fn opaque_of(&self, id: &str, what: &str, reason: &str) -> Template {
        let span = self.resources.get(id).map(|r| r.id_span).unwrap_or_default();
        Template::opaque(format!("{}{id}.{what}", self.scope), reason.to_string(), span)
    }

    /// A resource's name: its name property as given, else a generated (opaque) name.
    pub(crate) fn name_of(&mut self, id: &str) -> Template {
        let ty = self.resources.get(id).map(|r| r.ty.clone()).unwrap_or_default();
        if ty == "AWS::IAM::ServiceLinkedRole" {
            return self.slr_name(id);
        }
        let prop = match ty.as_str() {
            "AWS::IAM::Role" => Some("RoleName"),
            "AWS::IAM::User" => Some("UserName"),
            "AWS::IAM::Group" => Some("GroupName"),
            "AWS::IAM::ManagedPolicy" => Some("ManagedPolicyName"),
            "AWS::IAM::Policy" => Some("PolicyName"),
            "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable" => Some("TableName"),
            "AWS::Serverless::SimpleTable" => Some("TableName"),
            "AWS::Kinesis::Stream" => Some("Name"),
            _ => None,
        };
        match prop.and_then(|p| self.prop(id, p)) {
            Some(v) => template_of(&v),
            None => self.opaque_of(id, "name", "the name is generated by CloudFormation at deployment"),
        }
    }

    fn slr_name(&mut self, id: &str) -> Template {
        let service = self.prop(id, "AWSServiceName").map(|v| template_of(&v));
        if service.as_ref().and_then(Template::as_literal) == Some(KDS_SERVICE) {
            return Template::lit(KDS_SLR_NAME);
        }
        self.opaque_of(id, "name", "the service decides the service-linked role's name")
    }

    fn path_of(&mut self, id: &str) -> Template {
        if let Some(v) = self.prop(id, "Path") {
            return template_of(&v);
        }
        let implicit = self.implicit_role_paths.get(id).copied();
        match implicit.and_then(|raw| self.resolve(raw)) {
            Some(v) => template_of(&v),
            None => Template::lit("/"),
        }
    }

    /// A KMS key's id as references give it.
    pub(crate) fn key_id_of(&self, id: &str) -> Template {
        self.opaque_of(id, "key_id", "the key id is generated by KMS")
    }

    /// A resource's ARN, for the types whose ARN the template determines.
    pub(crate) fn arn_of(&mut self, id: &str) -> Option<Template> {
        let ty = self.resources.get(id).map(|r| r.ty.clone())?;
        let iam = |kind: &str, path: &Template, name: &Template| {
            let mut t = arn_prefix("iam", false);
            t.push_str(kind);
            t.push_template(path);
            t.push_template(name);
            t
        };
        match ty.as_str() {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" | "AWS::IAM::ManagedPolicy" => {
                let kind = match ty.as_str() {
                    "AWS::IAM::Role" => "role",
                    "AWS::IAM::User" => "user",
                    "AWS::IAM::Group" => "group",
                    _ => "policy",
                };
                let path = self.path_of(id);
                let name = self.name_of(id);
                Some(iam(kind, &path, &name))
            }
            "AWS::IAM::ServiceLinkedRole" => {
                let service = self
                    .prop(id, "AWSServiceName")
                    .map(|v| template_of(&v))
                    .unwrap_or_else(|| self.opaque_of(id, "service", "the service is not given"));
                let mut path = Template::lit("/aws-service-role/");
                path.push_template(&service);
                path.push_str("/");
                let name = self.name_of(id);
                Some(iam("role", &path, &name))
            }
            "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable" | "AWS::Serverless::SimpleTable" => {
                let mut t = arn_prefix("dynamodb", true);
                t.push_str("table/");
                t.push_template(&self.name_of(id));
                Some(t)
            }
            "AWS::Kinesis::Stream" => {
                let mut t = arn_prefix("kinesis", true);
                t.push_str("stream/");
                t.push_template(&self.name_of(id));
                Some(t)
            }
            "AWS::KMS::Key" => {
                let mut t = arn_prefix("kms", true);
                t.push_str("key/");
                t.push_template(&self.key_id_of(id));
                Some(t)
            }
            _ => None,
        }
    }

    /// `Ref` of a resource.
    pub(crate) fn resource_ref(&mut self, id: &str, span: Span) -> Value {
        let ty = self.resources.get(id).map(|r| r.ty.clone()).unwrap_or_default();
        let t = match ty.as_str() {
            "AWS::IAM::Role"
            | "AWS::IAM::User"
            | "AWS::IAM::Group"
            | "AWS::IAM::ServiceLinkedRole"
            | "AWS::DynamoDB::Table"
            | "AWS::DynamoDB::GlobalTable"
            | "AWS::Serverless::SimpleTable"
            | "AWS::Kinesis::Stream" => self.name_of(id),
            "AWS::IAM::ManagedPolicy" => self.arn_of(id).unwrap_or_default(),
            "AWS::KMS::Key" => self.key_id_of(id),
            _ => {
                let span = self.resources.get(id).map(|r| r.id_span).unwrap_or_default();
                Template::opaque(
                    format!("{}{id}", self.scope),
                    format!("the physical id of `{id}` is known only after deployment"),
                    span,
                )
            }
        };
        Value::new(ValueKind::Str(t), span)
    }

    /// `Fn::GetAtt` of a resource attribute.
    pub(crate) fn get_att(&mut self, id: &str, attr: &str, span: Span) -> Value {
        let ty = self.resources.get(id).map(|r| r.ty.clone()).unwrap_or_default();
        if STACK_TYPES.contains(&ty.as_str())
            && let Some(output) = attr.strip_prefix("Outputs.")
        {
            return self.stack_output(id, output, span);
        }
        let t = match (ty.as_str(), attr) {
            ("AWS::IAM::ManagedPolicy", "PolicyArn") | (_, "Arn") => self.arn_of(id),
            ("AWS::KMS::Key", "KeyId") => Some(self.key_id_of(id)),
            ("AWS::Kinesis::Stream", "Name") => Some(self.name_of(id)),
            _ => None,
        };
        let t = t.unwrap_or_else(|| {
            self.opaque_of(
                id,
                attr,
                &format!("attribute `{attr}` of `{id}` is known only after deployment"),
            )
        });
        Value::new(ValueKind::Str(t), span)
    }

    /// `Fn::GetAtt <Stack>.Outputs.<name>`: the child template's output, evaluated once
    /// per stack in the child's scope so that it names the child's records.
    fn stack_output(&mut self, id: &str, name: &str, span: Span) -> Value {
        if !self.stack_memo.contains_key(id) {
            self.stack_memo.insert(id.to_string(), Memo::InProgress);
            let outputs = super::nested::outputs(self, id);
            self.stack_memo.insert(id.to_string(), Memo::Done(outputs));
        }
        let expr = format!("Fn::GetAtt {id}.Outputs.{name}");
        let found = match self.stack_memo.get_mut(id) {
            Some(Memo::Done(Ok(stack))) => Ok(match stack.outputs.get_mut(name) {
                Some(out) => Ok((out.value.clone(), std::mem::take(&mut out.diagnostics))),
                None => Err(stack.display.clone()),
            }),
            Some(Memo::Done(Err(why))) => Err(Some(why.clone())),
            Some(Memo::InProgress) | None => Err(None),
        };
        match found {
            Ok(Ok((value, diagnostics))) => {
                self.diagnostics.extend(diagnostics);
                match value {
                    Some(v) => Value { span, ..v },
                    None => Value::unknown(
                        expr,
                        format!("output `{name}` of nested stack `{id}` is `AWS::NoValue`"),
                        span,
                    ),
                }
            }
            Ok(Err(display)) => {
                self.diagnostics.push(Diagnostic::note(
                    format!(
                        "`Fn::GetAtt` of output `{name}` of nested stack `{id}`, whose template `{display}` declares no such output"
                    ),
                    span,
                ));
                Value::unknown(
                    expr,
                    format!("nested stack `{id}` (`{display}`) declares no output `{name}`"),
                    span,
                )
            }
            Err(Some(why)) => Value::new(
                ValueKind::Str(self.opaque_of(
                    id,
                    &format!("Outputs.{name}"),
                    &format!("output `{name}` of nested stack `{id}`, whose template is not read: {why}"),
                )),
                span,
            ),
            Err(None) => {
                self.diagnostics.push(Diagnostic::note(
                    format!("output `{name}` of nested stack `{id}` depends on itself; its value is unknown"),
                    span,
                ));
                Value::unknown(expr, "circular reference through a nested stack's parameters", span)
            }
        }
    }

    fn get_att_expr(&mut self, arg: &Value, span: Span) -> Option<Value> {
        let arg = self.resolve(arg)?;
        let (id, attr) = match &arg.kind {
            ValueKind::Str(t) => match t.as_literal().and_then(|s| s.split_once('.')) {
                Some((id, attr)) => (id.to_string(), attr.to_string()),
                None => return Some(self.bad_arg("Fn::GetAtt", "`Resource.Attribute`", &arg, span)),
            },
            ValueKind::List(items) => match items.as_slice() {
                [id, attr] => match (id.as_str(), attr.as_str()) {
                    (Some(id), Some(attr)) => (id.to_string(), attr.to_string()),
                    _ => return Some(self.bad_arg("Fn::GetAtt", "two names", &arg, span)),
                },
                _ => return Some(self.bad_arg("Fn::GetAtt", "two names", &arg, span)),
            },
            _ => return Some(self.bad_arg("Fn::GetAtt", "`[Resource, Attribute]`", &arg, span)),
        };
        if !self.resources.contains_key(&id) {
            self.diagnostics.push(Diagnostic::note(
                format!("`Fn::GetAtt` of `{id}`, which the template does not declare"),
                span,
            ));
            return Some(Value::unknown(
                format!("Fn::GetAtt {id}.{attr}"),
                format!("`{id}` is not declared"),
                span,
            ));
        }
        Some(self.get_att(&id, &attr, span))
    }

    fn sub(&mut self, arg: &Value, span: Span) -> Value {
        let (text, vars) = match &arg.kind {
            ValueKind::List(items) => match items.as_slice() {
                [text, vars] => (text, Some(vars)),
                [text] => (text, None),
                _ => return self.bad_arg("Fn::Sub", "a string or `[string, variables]`", arg, span),
            },
            _ => (arg, None),
        };
        let Some(text) = self.resolve(text) else {
            return Value::str("", span);
        };
        let Some(text) = text.as_str().map(str::to_string) else {
            return self.bad_arg("Fn::Sub", "a literal string", &text, span);
        };
        let vars: Vec<(String, Option<Value>)> = match vars {
            Some(v) => {
                let resolved = self.resolve(v);
                resolved
                    .map(|m| {
                        m.entries()
                            .iter()
                            .map(|e| (e.key.clone(), Some(e.value.clone())))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        let mut out = Template::default();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..close];
            rest = &after[close + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push_str("}");
                continue;
            }
            let name = name.trim();
            let value = match vars.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => v.clone(),
                None => match name.split_once('.') {
                    Some((id, attr)) if self.resources.contains_key(id) => Some(self.get_att(id, attr, span)),
                    _ => self.ref_name(name, span),
                },
            };
            if let Some(v) = value {
                out.push_template(&template_of(&v));
            }
        }
        out.push_str(rest);
        Value::new(ValueKind::Str(out), span)
    }

    fn join(&mut self, arg: &Value, span: Span) -> Value {
        let Some([delim, list]) = arg.as_list().and_then(|l| <&[Value; 2]>::try_from(l).ok()) else {
            return self.bad_arg("Fn::Join", "`[delimiter, list]`", arg, span);
        };
        let delim = self.resolve(delim).and_then(|d| d.to_template()).unwrap_or_default();
        let Some(list) = self.resolve(list) else {
            return Value::str("", span);
        };
        let Some(items) = list.as_list() else {
            return Value::unknown("Fn::Join", "joins a list that is not known", span);
        };
        let mut out = Template::default();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_template(&delim);
            }
            out.push_template(&template_of(item));
        }
        Value::new(ValueKind::Str(out), span)
    }

    fn select(&mut self, arg: &Value, span: Span) -> Option<Value> {
        let Some([index, list]) = arg.as_list().and_then(|l| <&[Value; 2]>::try_from(l).ok()) else {
            return Some(self.bad_arg("Fn::Select", "`[index, list]`", arg, span));
        };
        let index = self
            .resolve(index)
            .and_then(|i| i.to_template())
            .and_then(|t| t.as_literal().and_then(|s| s.trim().parse::<usize>().ok()));
        let list = self.resolve(list)?;
        match (index, list.as_list()) {
            (Some(i), Some(items)) => match items.get(i) {
                Some(item) => Some(item.clone()),
                None => {
                    self.diagnostics.push(Diagnostic::note(
                        format!(
                            "`Fn::Select` index {i} is out of range (the list has {} items)",
                            items.len()
                        ),
                        span,
                    ));
                    Some(Value::unknown("Fn::Select", "index out of range", span))
                }
            },
            _ => Some(Value::unknown(
                "Fn::Select",
                "selects from a list or index that is not known",
                span,
            )),
        }
    }

    fn split(&mut self, arg: &Value, span: Span) -> Value {
        let Some([delim, text]) = arg.as_list().and_then(|l| <&[Value; 2]>::try_from(l).ok()) else {
            return self.bad_arg("Fn::Split", "`[delimiter, string]`", arg, span);
        };
        let delim = self.resolve(delim).and_then(|d| d.as_str().map(str::to_string));
        let text = self.resolve(text).and_then(|t| t.as_template().cloned());
        let (Some(delim), Some(text)) = (delim, text) else {
            return Value::unknown("Fn::Split", "splits a string that is not known", span);
        };
        match split_template(&text, &delim) {
            Some(pieces) => Value::new(
                ValueKind::List(
                    pieces
                        .into_iter()
                        .map(|p| Value::new(ValueKind::Str(p), span))
                        .collect(),
                ),
                span,
            ),
            None => Value::unknown(
                "Fn::Split",
                "splits a string whose unknown parts could hold the delimiter",
                span,
            ),
        }
    }

    fn fn_if(&mut self, arg: &Value, span: Span) -> Option<Value> {
        let Some([cond, then, otherwise]) = arg.as_list().and_then(|l| <&[Value; 3]>::try_from(l).ok()) else {
            return Some(self.bad_arg("Fn::If", "`[condition, value if true, value if false]`", arg, span));
        };
        let Some(name) = cond.as_str() else {
            return Some(self.bad_arg("Fn::If", "a condition name", cond, span));
        };
        match self.condition(name, cond.span) {
            Some(true) => self.resolve(then),
            Some(false) => self.resolve(otherwise),
            None => {
                let a = self.resolve(then);
                let b = self.resolve(otherwise);
                if let (Some(a), Some(b)) = (&a, &b)
                    && same_value(a, b)
                {
                    return Some(a.clone());
                }
                Some(Value::unknown(
                    format!("Fn::If [{name}, …]"),
                    format!("condition `{name}` is undecided (it depends on values not known statically)"),
                    span,
                ))
            }
        }
    }

    fn find_in_map(&mut self, arg: &Value, span: Span) -> Option<Value> {
        let Some(items) = arg.as_list().filter(|l| l.len() == 3 || l.len() == 4) else {
            return Some(self.bad_arg("Fn::FindInMap", "`[map, top-level key, second-level key]`", arg, span));
        };
        let mut keys = Vec::with_capacity(3);
        for item in items.iter().take(3) {
            let key = self.resolve(item).and_then(|k| k.to_template());
            match key.as_ref().and_then(Template::as_literal) {
                Some(k) => keys.push(k.to_string()),
                None => {
                    return Some(Value::unknown(
                        "Fn::FindInMap",
                        "a mapping key depends on a value not known statically",
                        span,
                    ));
                }
            }
        }
        let found = self
            .mappings
            .and_then(|m| m.get(&keys[0]))
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]));
        if let Some(found) = found {
            return self.resolve(found).map(|v| Value { span, ..v });
        }
        if let Some(default) = items.get(3).and_then(|d| d.get("DefaultValue")) {
            return self.resolve(default);
        }
        self.diagnostics.push(Diagnostic::note(
            format!(
                "`Fn::FindInMap` finds no `{}` / `{}` / `{}` in `Mappings`",
                keys[0], keys[1], keys[2]
            ),
            span,
        ));
        Some(Value::unknown("Fn::FindInMap", "no such mapping entry", span))
    }

    /// Whether a named condition holds; `None` when it depends on unknowns.
    pub fn condition(&mut self, name: &str, span: Span) -> Option<bool> {
        match self.condition_memo.get(name) {
            Some(Memo::Done(v)) => return *v,
            Some(Memo::InProgress) => {
                self.diagnostics.push(Diagnostic::note(
                    format!("condition `{name}` refers to itself; it is undecided"),
                    span,
                ));
                return None;
            }
            None => {}
        }
        let Some(decl) = self.conditions.get(name).copied() else {
            self.diagnostics.push(Diagnostic::note(
                format!("condition `{name}` is not declared; it is undecided"),
                span,
            ));
            self.condition_memo.insert(name.to_string(), Memo::Done(None));
            return None;
        };
        self.condition_memo.insert(name.to_string(), Memo::InProgress);
        let v = self.condition_value(decl);
        self.condition_memo.insert(name.to_string(), Memo::Done(v));
        v
    }

    fn condition_value(&mut self, v: &Value) -> Option<bool> {
        if self.depth >= MAX_EVAL_DEPTH {
            return None;
        }
        self.depth += 1;
        let out = self.condition_value_inner(v);
        self.depth -= 1;
        out
    }

    fn condition_value_inner(&mut self, v: &Value) -> Option<bool> {
        if let ValueKind::Bool(b) = v.kind {
            return Some(b);
        }
        let [entry] = v.entries() else {
            return v.as_bool();
        };
        let args = entry.value.as_list().unwrap_or_default();
        match entry.key.as_str() {
            "Condition" => {
                let name = entry.value.as_str()?;
                self.condition(name, entry.value.span)
            }
            "Fn::Equals" => {
                let [a, b] = args else { return None };
                let a = self.resolve(a)?;
                let b = self.resolve(b)?;
                if same_value(&a, &b) {
                    return Some(true);
                }
                match (a.to_template(), b.to_template()) {
                    (Some(x), Some(y)) if x.is_literal() && y.is_literal() => Some(x == y),
                    _ => None,
                }
            }
            "Fn::Not" => {
                let [a] = args else { return None };
                self.condition_value(a).map(|b| !b)
            }
            "Fn::And" | "Fn::Or" => {
                let is_and = entry.key == "Fn::And";
                let mut undecided = false;
                for a in args {
                    match self.condition_value(a) {
                        Some(b) if b != is_and => return Some(b),
                        Some(_) => {}
                        None => undecided = true,
                    }
                }
                if undecided { None } else { Some(is_and) }
            }
            _ => {
                let resolved = self.resolve(v)?;
                resolved.as_bool()
            }
        }
    }
}

impl Default for Evaluator<'_> {
    fn default() -> Self {
        Evaluator::new()
    }
}

fn is_intrinsic(key: &str) -> bool {
    key == "Ref" || (key.starts_with("Fn::") && !key.starts_with("Fn::ForEach::"))
}

/// `arn:${Partition}:<service>:[${Region}]:${Account}:`.
pub(crate) fn arn_prefix(service: &str, regional: bool) -> Template {
    use crate::iam::arn::{Segment, head};
    let region = if regional { Segment::Run } else { Segment::Empty };
    head(Segment::Run, service, region, Segment::Run)
}

/// A value as a string template: unknowns and non-strings become opaque symbols named
/// by their expression.
pub(crate) fn template_of(v: &Value) -> Template {
    match &v.kind {
        ValueKind::Str(t) => t.clone(),
        ValueKind::Number(n) => Template::lit(n.clone()),
        ValueKind::Bool(b) => Template::lit(b.to_string()),
        ValueKind::Null => Template::default(),
        ValueKind::Unknown(u) => Template::opaque(u.expr.clone(), u.reason.clone(), v.span),
        ValueKind::List(_) | ValueKind::Map(_) => Template::opaque(
            format!("<{}>", v.type_name()),
            format!("a {} used as a string", v.type_name()),
            v.span,
        ),
    }
}

/// Structural equality that ignores spans.
fn same_value(a: &Value, b: &Value) -> bool {
    match (&a.kind, &b.kind) {
        (ValueKind::List(x), ValueKind::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (ValueKind::Map(x), ValueKind::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.key == q.key && same_value(&p.value, &q.value))
        }
        (ValueKind::Unknown(_), _) | (_, ValueKind::Unknown(_)) => false,
        (x, y) => x == y,
    }
}

/// Splits a template at a literal delimiter. Symbols stay whole; `None` when an opaque
/// symbol could itself hold the delimiter.
fn split_template(t: &Template, delim: &str) -> Option<Vec<Template>> {
    if delim.is_empty() {
        return None;
    }
    let mut pieces = vec![Template::default()];
    for part in t.parts() {
        match part {
            Part::Lit(s) => {
                let mut first = true;
                for piece in s.split(delim) {
                    if !first {
                        pieces.push(Template::default());
                    }
                    first = false;
                    if let Some(last) = pieces.last_mut() {
                        last.push_str(piece);
                    }
                }
            }
            Part::Sym(sym) => {
                let safe = match sym {
                    Symbol::Opaque(_) => false,
                    // Account ids are digits; partitions and regions are lower-case words
                    // joined by `-`; URL suffixes contain dots.
                    Symbol::Account => true,
                    Symbol::Partition | Symbol::Region => {
                        !delim.contains('-') && !delim.chars().any(char::is_alphanumeric)
                    }
                    Symbol::UrlSuffix => !delim.contains('.') && !delim.chars().any(char::is_alphanumeric),
                };
                if !safe {
                    return None;
                }
                if let Some(last) = pieces.last_mut() {
                    last.push_sym(sym.clone());
                }
            }
        }
    }
    Some(pieces)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((n >> (18 - 6 * i)) & 0x3f) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::LoadOptions;
    use crate::load::cloudformation::{resources, yaml};
    use crate::source::FileId;

    const CONTEXT: &str = "\
Parameters:
  Env: {Type: String, Default: prod}
  Unset: {Type: String}
  Zones: {Type: CommaDelimitedList, Default: 'a, b,c'}
Mappings:
  M:
    prod: {Size: 4}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Unknowable: !Equals [!Ref Unset, x]
  Loop1: !Condition Loop2
  Loop2: !Condition Loop1
Resources:
  R: {Type: AWS::IAM::Role, Properties: {RoleName: !Sub 'r-${Env}'}}
  G: {Type: AWS::IAM::Role}
  T: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Ref Unset}}
  K: {Type: AWS::KMS::Key}
  Q: {Type: AWS::SQS::Queue}
  Self: {Type: AWS::IAM::Role, Properties: {RoleName: !Ref Self}}
";

    /// Evaluates the YAML expression `expr` in the context above.
    fn eval(expr: &str) -> (Option<Value>, Vec<Diagnostic>) {
        let text = format!("{CONTEXT}Value: {expr}\n");
        let mut diags = Vec::new();
        let root = yaml::parse(&text, FileId::for_path("t.yaml"), &mut diags)
            .unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        let mut ev = resources::evaluator(&root, &LoadOptions::default(), false);
        let out = root.get("Value").and_then(|v| ev.resolve(v));
        diags.extend(ev.diagnostics);
        (out, diags)
    }

    fn text(expr: &str) -> String {
        match eval(expr).0 {
            Some(v) => match &v.kind {
                ValueKind::Str(t) => t.to_string(),
                ValueKind::List(items) => {
                    format!(
                        "[{}]",
                        items
                            .iter()
                            .map(|i| template_of(i).to_string())
                            .collect::<Vec<_>>()
                            .join("|")
                    )
                }
                other => format!("{other:?}"),
            },
            None => "<novalue>".to_string(),
        }
    }

    #[test]
    fn ref_of_parameters_pseudo_parameters_and_resources() {
        assert_eq!(text("!Ref Env"), "prod");
        assert_eq!(text("!Ref Unset"), "${Unset}");
        assert_eq!(text("!Ref Zones"), "[a|b|c]");
        assert_eq!(text("!Ref AWS::Region"), "${AWS::Region}");
        assert_eq!(text("!Ref AWS::StackName"), "${AWS::StackName}");
        assert_eq!(text("!Ref AWS::NoValue"), "<novalue>");
        assert_eq!(text("!Ref R"), "r-prod");
        assert_eq!(text("!Ref G"), "${G.name}");
        assert_eq!(text("!Ref K"), "${K.key_id}");
        assert_eq!(text("!Ref Q"), "${Q}");
        let (v, diags) = eval("!Ref Nope");
        assert!(v.is_some_and(|v| v.is_unknown()));
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn get_att_list_and_dotted_forms_agree() {
        let arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${G.name}";
        assert_eq!(text("!GetAtt G.Arn"), arn);
        assert_eq!(text("{'Fn::GetAtt': [G, Arn]}"), arn);
        assert_eq!(
            eval("!GetAtt G.Arn").0.map(|v| v.kind),
            eval("{'Fn::GetAtt': [G, Arn]}").0.map(|v| v.kind)
        );
        assert_eq!(
            text("!GetAtt T.Arn"),
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Unset}"
        );
        assert_eq!(text("!GetAtt T.StreamArn"), "${T.StreamArn}");
        assert_eq!(
            text("!GetAtt K.Arn"),
            "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${K.key_id}"
        );
    }

    #[test]
    fn sub_join_select_split() {
        assert_eq!(
            text("!Sub 'x-${Env}-${AWS::AccountId}-${!Literal}-${G.Arn}'"),
            format!("x-prod-${{AWS::AccountId}}-${{Literal}}-{}", text("!GetAtt G.Arn"))
        );
        assert_eq!(text("!Sub ['${a}/${Env}', {a: !Ref R}]"), "r-prod/prod");
        assert_eq!(text("!Join [':', [a, !Ref Env, 3]]"), "a:prod:3");
        assert_eq!(text("!Select [1, !Ref Zones]"), "b");
        assert_eq!(text("!Select [1, !Split [',', 'x,y,z']]"), "y");
        assert_eq!(
            text("!Split ['/', !Sub 'arn:${AWS::Partition}:x/y']"),
            "[arn:${AWS::Partition}:x|y]"
        );
        assert!(eval("!Select [9, [a]]").0.is_some_and(|v| v.is_unknown()));
        assert!(eval("!Split ['-', !Ref Unset]").0.is_some_and(|v| v.is_unknown()));
    }

    #[test]
    fn conditions_and_if() {
        assert_eq!(text("!If [IsProd, yes, no]"), "yes");
        assert_eq!(text("[a, !If [IsProd, !Ref AWS::NoValue, b]]"), "[a]");
        let (v, _) = eval("!If [Unknowable, a, b]");
        match v.map(|v| v.kind) {
            Some(ValueKind::Unknown(u)) => assert!(u.reason.contains("Unknowable"), "{}", u.reason),
            other => panic!("expected unknown, got {other:?}"),
        }
        assert_eq!(text("!If [Unknowable, same, same]"), "same");
        let (v, diags) = eval("!If [Loop1, a, b]");
        assert!(v.is_some_and(|v| v.is_unknown()));
        assert!(diags.iter().any(|d| d.message.contains("refers to itself")));
        assert_eq!(
            text("!And [!Condition IsProd, !Not [!Condition Unknowable]]"),
            "Unknown(Unknown { expr: \"Fn::And\", reason: \"a condition that depends on values not known statically\" })"
        );
        assert_eq!(text("!Or [!Condition IsProd, !Condition Unknowable]"), "Bool(true)");
    }

    #[test]
    fn find_in_map_and_the_rest() {
        assert_eq!(text("!FindInMap [M, !Ref Env, Size]"), "Number(\"4\")");
        assert!(
            eval("!FindInMap [M, !Ref AWS::Region, Size]")
                .0
                .is_some_and(|v| v.is_unknown())
        );
        assert_eq!(text("!FindInMap [M, dev, Size, {DefaultValue: 1}]"), "Number(\"1\")");
        assert_eq!(text("!ImportValue shared-arn"), "${Fn::ImportValue:shared-arn}");
        assert!(eval("!GetAZs ''").0.is_some_and(|v| v.is_unknown()));
        assert!(eval("!Cidr [a, 1, 2]").0.is_some_and(|v| v.is_unknown()));
        assert_eq!(text("!Base64 hello"), "aGVsbG8=");
        assert_eq!(text("!Length [a, b]"), "Number(\"2\")");
        assert_eq!(
            text("!ToJsonString {a: [1, !Ref AWS::Region]}"),
            "{\"a\":[1,\"${AWS::Region}\"]}"
        );
        let (v, diags) = eval("{'Fn::Transform': {Name: AWS::Include}}");
        assert!(v.is_some_and(|v| v.is_unknown()) && diags.len() == 1);
        let (v, diags) = eval("!Frobnicate x");
        assert!(v.is_some_and(|v| v.is_unknown()) && diags.len() == 1);
    }

    #[test]
    fn cycles_and_depth_are_bounded() {
        assert!(text("!Ref Self").contains("Self.RoleName"));
        // 400 nested joins: far deeper than the evaluation bound, inside a 2 MiB stack.
        let worker = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(|| {
            let s = Span::builtin();
            let mut v = Value::str("x", s);
            for _ in 0..400 {
                let args = Value::new(
                    ValueKind::List(vec![Value::str("", s), Value::new(ValueKind::List(vec![v]), s)]),
                    s,
                );
                v = Value::new(
                    ValueKind::Map(vec![Entry {
                        key: "Fn::Join".into(),
                        key_span: s,
                        value: args,
                    }]),
                    s,
                );
            }
            let mut ev = Evaluator::new();
            ev.resolve(&v)
                .is_some_and(|v| v.as_template().is_some_and(|t| t.opaques().count() == 1))
        });
        assert!(worker.is_ok_and(|h| h.join().unwrap_or(false)));
    }
}
