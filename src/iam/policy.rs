//! Policy documents (as loaded [`Value`]s in IAM's JSON shape) into typed statements.
//!
//! Whatever the source syntax (JSON string, HCL object, YAML map, policy-document data
//! source), the loaders hand over the same JSON shape, so this is the one place that
//! reads `Statement`, `Effect`, `Action`, `Resource`, `Principal` and `Condition`.

use crate::iam::condition::{invalid_value, parse_operator};
use crate::iam::pattern::{Tri, match_action};
use crate::model::Diagnostic;
use crate::source::Span;
use crate::value::{Template, Value, ValueKind};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A pattern string from a policy (action, resource, principal or condition value), with
/// its span.
#[derive(Clone, Debug)]
pub struct Pat {
    pub text: Template,
    pub span: Span,
    /// The pattern compiled for resource matching, once, on first use.
    compiled: std::sync::OnceLock<crate::iam::pattern::Compiled>,
    /// As a `Principal` entry: the account it names, compiled, once, on first use.
    account: std::sync::OnceLock<Option<crate::iam::pattern::ExactPattern>>,
    /// Whether its literal text holds a policy variable, read once on first use (every
    /// resource match of a statement asks).
    variables: std::sync::OnceLock<bool>,
}

impl Pat {
    pub fn new(text: Template, span: Span) -> Pat {
        Pat {
            text,
            span,
            compiled: std::sync::OnceLock::new(),
            account: std::sync::OnceLock::new(),
            variables: std::sync::OnceLock::new(),
        }
    }

    /// Whether its literal text holds a `${...}` policy variable (symbols print as `${...}`
    /// too, so only the literal parts are read).
    pub(crate) fn has_variables(&self) -> bool {
        *self.variables.get_or_init(|| {
            self.text
                .parts()
                .iter()
                .any(|part| matches!(part, crate::value::Part::Lit(s) if s.contains("${")))
        })
    }

    /// The pattern as resource matching reads it, compiled once.
    pub fn compiled(&self) -> &crate::iam::pattern::Compiled {
        self.compiled
            .get_or_init(|| crate::iam::pattern::Compiled::resource(&self.text))
    }
}

impl Pat {
    /// As a `Principal` entry, the account it names (`read` finds it in the text, the first
    /// time), compiled for comparing with callers' accounts.
    pub(crate) fn principal_account(
        &self,
        read: impl FnOnce(&Template) -> Option<Template>,
    ) -> Option<&crate::iam::pattern::ExactPattern> {
        self.account
            .get_or_init(|| read(&self.text).map(|a| crate::iam::pattern::ExactPattern::new(&a)))
            .as_ref()
    }
}

impl PartialEq for Pat {
    fn eq(&self, other: &Pat) -> bool {
        self.text == other.text && self.span == other.span
    }
}

/// `Action` or `NotAction` (likewise for resources and principals).
#[derive(Clone, PartialEq, Debug)]
pub enum Which {
    /// The element lists what it covers.
    Listed(Vec<Pat>),
    /// `Not…`: covers everything except the listed patterns; `span` is the key.
    Not(Vec<Pat>, Span),
    /// The element's value could not be resolved (e.g. an unknown variable).
    Unknown(String, Span),
    /// The element is absent.
    Absent,
}

/// One condition test: operator, key and values, with spans.
#[derive(Clone, PartialEq, Debug)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub(crate) key_span: Span,
    pub values: Vec<Pat>,
    /// Set when the values could not be resolved.
    pub unknown: Option<String>,
}

/// The `Principal` element of a resource-based policy.
#[derive(Clone, PartialEq, Debug)]
pub enum Principals {
    /// `"*"` or `{"AWS": "*"}`.
    Anyone(Span),
    /// `{"AWS": [...], "Service": [...], ...}`: type and patterns.
    Listed(Vec<(String, Pat)>),
    Unknown(String, Span),
}

#[derive(Clone, PartialEq, Debug)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Which,
    pub resources: Which,
    /// `None` in identity policies; resource policies name their principals.
    pub principal: Option<Principals>,
    pub(crate) not_principal: bool,
    pub conditions: Vec<Condition>,
    pub span: Span,
    /// Set when `Effect` could not be resolved: the statement is kept as an Allow, and the
    /// evaluator reads it as a possible Allow and a possible Deny (never a certain one).
    pub(crate) effect_unknown: Option<(String, Span)>,
    /// A lookup of its action patterns, built on first use (not part of its meaning).
    pub(crate) action_lookup: ActionLookup,
}

/// Action lists at least this long are looked up through an index rather than scanned
/// (bundled AWS managed policies list thousands of actions in one statement).
const INDEXED_ACTIONS: usize = 16;

/// A statement's `Action` or `NotAction` patterns indexed for lookup: the exact names (first
/// position of each, lowercased), the plain patterns with wildcards, and the patterns with
/// unresolved pieces, each with its position in the list.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActionLookup(std::sync::OnceLock<ActionIndex>);

impl PartialEq for ActionLookup {
    fn eq(&self, _: &ActionLookup) -> bool {
        true
    }
}

#[derive(Clone, Debug, Default)]
struct ActionIndex {
    exact: std::collections::HashMap<String, usize>,
    /// Plain patterns with wildcards whose service prefix (before the first `:`) is
    /// literal, by that prefix lower-cased: they can match only actions of that service.
    wild: std::collections::HashMap<String, Vec<usize>>,
    /// Plain patterns with wildcards in the service part (or no `:`): candidates for
    /// every action.
    wild_any: Vec<usize>,
    other: Vec<usize>,
}

impl ActionIndex {
    fn build(pats: &[Pat]) -> ActionIndex {
        let mut index = ActionIndex::default();
        for (k, p) in pats.iter().enumerate() {
            match p.text.as_literal() {
                Some(text) if !text.contains(['*', '?']) => {
                    index.exact.entry(text.to_ascii_lowercase()).or_insert(k);
                }
                Some(text) => match text.split_once(':') {
                    Some((service, _)) if !service.contains(['*', '?']) => {
                        index.wild.entry(service.to_ascii_lowercase()).or_default().push(k);
                    }
                    _ => index.wild_any.push(k),
                },
                None => index.other.push(k),
            }
        }
        index
    }

    /// The first (by position) plain wildcard pattern before `bound` that matches
    /// `action`: only the patterns of the action's service and those whose service part has
    /// a wildcard are tried, in position order.
    fn first_wild(&self, pats: &[Pat], action: &str, bound: Option<usize>) -> Option<usize> {
        let service = action.split_once(':').map_or(action, |(s, _)| s).to_ascii_lowercase();
        let own: &[usize] = self.wild.get(&service).map(Vec::as_slice).unwrap_or_default();
        let (mut i, mut j) = (0, 0);
        loop {
            let k = match (own.get(i), self.wild_any.get(j)) {
                (Some(&a), Some(&b)) if a < b => {
                    i += 1;
                    a
                }
                (_, Some(&b)) => {
                    j += 1;
                    b
                }
                (Some(&a), None) => {
                    i += 1;
                    a
                }
                (None, None) => return None,
            };
            if bound.is_some_and(|e| k >= e) {
                return None;
            }
            if match_action(&pats[k].text, action) == Tri::Yes {
                return Some(k);
            }
        }
    }
}

impl Statement {
    /// How the action patterns `pats` (this statement's `Action` or `NotAction` list) match
    /// `action`: the best of yes, maybe and no, and the position of the first pattern that
    /// gives it (`None` for no). The same answer as trying each pattern in order.
    pub(crate) fn match_action_list(&self, pats: &[Pat], action: &str) -> (Tri, Option<usize>) {
        if pats.len() < INDEXED_ACTIONS {
            return first_best(pats.iter().enumerate(), action);
        }
        let index = self.action_lookup.0.get_or_init(|| ActionIndex::build(pats));
        let exact = index.exact.get(&action.to_ascii_lowercase()).copied();
        let wild = index.first_wild(pats, action, exact);
        let literal_yes = match (exact, wild) {
            (Some(e), Some(w)) => Some(e.min(w)),
            (e, w) => e.or(w),
        };
        let (other, other_at) = first_best(index.other.iter().map(|&k| (k, &pats[k])), action);
        match (literal_yes, other, other_at) {
            (Some(l), Tri::Yes, Some(o)) => (Tri::Yes, Some(l.min(o))),
            (Some(l), ..) => (Tri::Yes, Some(l)),
            (None, t, at) => (t, at),
        }
    }
}

/// The best match among patterns (position, pattern) and the first position giving it.
fn first_best<'a>(pats: impl Iterator<Item = (usize, &'a Pat)>, action: &str) -> (Tri, Option<usize>) {
    let mut best = (Tri::No, None);
    for (k, p) in pats {
        let t = match_action(&p.text, action);
        if t > best.0 {
            best = (t, Some(k));
            if t == Tri::Yes {
                break;
            }
        }
    }
    best
}

/// A parsed document. `statements` keeps source order. `unknown` is set when the whole
/// document (or its statement list) could not be resolved: it may grant anything.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Document {
    pub version: Option<String>,
    pub statements: Vec<Statement>,
    pub unknown: Option<(String, Span)>,
}

impl Document {
    /// Whether `${...}` policy variables are substituted (Version 2012-10-17 only).
    pub(crate) fn has_policy_variables(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }

    /// How the Allow statements (only the one with `sid`, when given) grant `action`: the
    /// action patterns that cover it as written (`dynamodb:*`, `*`), or `NotAction`; each
    /// once, in statement order. Used to name a bundled policy's grant in words.
    pub(crate) fn allowing_patterns(&self, sid: Option<&str>, action: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.statements {
            if s.effect != Effect::Allow || (sid.is_some() && s.sid.as_deref() != sid) {
                continue;
            }
            let found: Vec<String> = match &s.actions {
                Which::Listed(pats) => pats
                    .iter()
                    .filter(|p| crate::iam::pattern::match_action(&p.text, action) == crate::iam::pattern::Tri::Yes)
                    .map(|p| p.text.to_string())
                    .collect(),
                Which::Not(..) => vec!["NotAction".to_string()],
                Which::Unknown(..) | Which::Absent => Vec::new(),
            };
            for w in found {
                if !out.contains(&w) {
                    out.push(w);
                }
            }
        }
        out
    }
}

/// Parses a document; problems become diagnostics (a malformed statement is skipped only
/// after saying so).
pub fn parse(doc: &Value) -> (Document, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = Document::default();
    match &doc.kind {
        ValueKind::Unknown(u) => {
            out.unknown = Some((u.to_string(), doc.span));
            return (out, diags);
        }
        ValueKind::Map(_) => {}
        _ => {
            diags.push(Diagnostic::warning(
                format!("a policy document must be an object, found a {}", doc.type_name()),
                doc.span,
            ));
            out.unknown = Some(("malformed policy document".to_string(), doc.span));
            return (out, diags);
        }
    }
    out.version = doc.get("Version").and_then(Value::as_str).map(str::to_string);
    if let Some(v) = doc.get("Version")
        && let Some(text) = v.as_str()
        && !KNOWN_VERSIONS.contains(&text)
    {
        diags.push(Diagnostic::warning(
            format!("`Version` must be \"2012-10-17\" or \"2008-10-17\", found {text:?}"),
            v.span,
        ));
    }
    let Some(statements) = doc.get("Statement") else {
        diags.push(Diagnostic::warning("policy document has no `Statement`", doc.span));
        return (out, diags);
    };
    match &statements.kind {
        ValueKind::Map(_) => parse_statement(statements, &mut out, &mut diags),
        ValueKind::List(items) => {
            for item in items {
                parse_statement(item, &mut out, &mut diags);
            }
        }
        ValueKind::Unknown(u) => out.unknown = Some((u.to_string(), statements.span)),
        _ => diags.push(Diagnostic::warning(
            format!(
                "`Statement` must be an object or a list, found a {}",
                statements.type_name()
            ),
            statements.span,
        )),
    }
    (out, diags)
}

/// The policy language versions AWS accepts.
const KNOWN_VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];

/// The elements a statement may have.
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

fn parse_statement(v: &Value, out: &mut Document, diags: &mut Vec<Diagnostic>) {
    if let ValueKind::Unknown(u) = &v.kind {
        // One unknown statement may grant anything.
        out.unknown = Some((u.to_string(), v.span));
        return;
    }
    if !matches!(v.kind, ValueKind::Map(_)) {
        diags.push(Diagnostic::warning(
            format!("a statement must be an object, found a {}", v.type_name()),
            v.span,
        ));
        return;
    }
    for e in v.entries() {
        if !STATEMENT_ELEMENTS.contains(&e.key.as_str()) {
            diags.push(Diagnostic::warning(
                format!("unknown statement element `{}`; it is ignored", e.key),
                e.key_span,
            ));
        }
    }
    let mut effect_unknown = None;
    let effect = match v.get("Effect") {
        Some(e) => match e.as_str() {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            Some(other) => {
                diags.push(Diagnostic::warning(
                    format!("`Effect` must be \"Allow\" or \"Deny\", found {other:?}; statement ignored"),
                    e.span,
                ));
                return;
            }
            None if e.is_unknown() => {
                // Could be either: a possible Allow and a possible Deny (`effect_unknown`).
                diags.push(Diagnostic::note(
                    "`Effect` could not be resolved; the statement is treated as a possible Allow and a possible Deny",
                    e.span,
                ));
                effect_unknown = Some((
                    match &e.kind {
                        ValueKind::Unknown(u) => u.to_string(),
                        _ => "the statement's `Effect`".to_string(),
                    },
                    e.span,
                ));
                Effect::Allow
            }
            None => {
                diags.push(Diagnostic::warning(
                    "`Effect` must be a string; statement ignored",
                    e.span,
                ));
                return;
            }
        },
        None => {
            diags.push(Diagnostic::warning("statement has no `Effect`; ignored", v.span));
            return;
        }
    };
    let actions = which(v, "Action", "NotAction", diags);
    if actions == Which::Absent {
        diags.push(Diagnostic::warning(
            "statement has neither `Action` nor `NotAction`; it matches nothing",
            v.span,
        ));
    }
    let resources = which(v, "Resource", "NotResource", diags);
    if let Which::Listed(pats) | Which::Not(pats, _) = &resources {
        for p in pats {
            if let Some(problem) = bad_resource(&p.text) {
                diags.push(Diagnostic::warning(problem, p.span));
            }
        }
    }
    if v.entry("Principal").is_some()
        && let Some(np) = v.entry("NotPrincipal")
    {
        diags.push(Diagnostic::warning(
            "statement has both `Principal` and `NotPrincipal`; `NotPrincipal` is ignored",
            np.key_span,
        ));
    }
    let (principal, not_principal) = match (v.entry("Principal"), v.entry("NotPrincipal")) {
        (Some(p), _) => (Some(principals(&p.value)), false),
        (None, Some(np)) => (Some(principals(&np.value)), true),
        (None, None) => (None, false),
    };
    let conditions = v.get("Condition").map(|c| conditions(c, diags)).unwrap_or_default();
    out.statements.push(Statement {
        sid: v.get("Sid").and_then(Value::as_str).map(str::to_string),
        effect,
        actions,
        resources,
        principal,
        not_principal,
        conditions,
        span: v.span,
        effect_unknown,
        action_lookup: ActionLookup::default(),
    });
}

/// Why a resource pattern cannot be an ARN, if it cannot (symbols and unknown pieces are
/// given the benefit of the doubt).
fn bad_resource(t: &Template) -> Option<String> {
    let head = match t.parts().first() {
        Some(crate::value::Part::Lit(s)) => s.as_str(),
        _ => return None,
    };
    if t.as_literal() == Some("*") || head.starts_with("${") {
        return None;
    }
    if !"arn:".starts_with(head) && !head.starts_with("arn:") {
        return Some(format!("resource {t} is not an ARN (nor `*`)"));
    }
    if let Some(s) = t.as_literal()
        && s.matches(':').count() < 5
        && !s.ends_with('*')
    {
        return Some(format!(
            "resource {s} is not an ARN: an ARN has six `:`-separated parts"
        ));
    }
    None
}

fn which(v: &Value, key: &str, not_key: &str, diags: &mut Vec<Diagnostic>) -> Which {
    match (v.entry(key), v.entry(not_key)) {
        (Some(a), Some(n)) => {
            diags.push(Diagnostic::warning(
                format!("statement has both `{key}` and `{not_key}`; `{not_key}` is ignored"),
                n.key_span,
            ));
            listed(&a.value)
        }
        (Some(a), None) => listed(&a.value),
        (None, Some(n)) => match listed(&n.value) {
            Which::Listed(p) => Which::Not(p, n.key_span),
            other => other,
        },
        (None, None) => Which::Absent,
    }
}

fn listed(v: &Value) -> Which {
    let mut pats = Vec::new();
    if let Some(reason) = collect_pats(v, &mut pats) {
        return Which::Unknown(reason, v.span);
    }
    Which::Listed(pats)
}

/// Collects string patterns; returns a reason when something is unknown.
fn collect_pats(v: &Value, out: &mut Vec<Pat>) -> Option<String> {
    match &v.kind {
        ValueKind::List(items) => {
            let mut unknown = None;
            for item in items {
                if let Some(r) = collect_pats(item, out) {
                    unknown = Some(r);
                }
            }
            unknown
        }
        ValueKind::Unknown(u) => Some(u.to_string()),
        _ => match v.to_template() {
            Some(text) => {
                out.push(Pat::new(text, v.span));
                None
            }
            None => Some(format!("a {} where a string was expected", v.type_name())),
        },
    }
}

fn principals(v: &Value) -> Principals {
    if v.as_str() == Some("*") {
        return Principals::Anyone(v.span);
    }
    match &v.kind {
        ValueKind::Map(entries) => {
            let mut out = Vec::new();
            for e in entries {
                let mut pats = Vec::new();
                if let Some(reason) = collect_pats(&e.value, &mut pats) {
                    return Principals::Unknown(reason, e.value.span);
                }
                if e.key == "AWS" && pats.iter().any(|p| p.text.as_literal() == Some("*")) {
                    return Principals::Anyone(e.value.span);
                }
                out.extend(pats.into_iter().map(|p| (e.key.clone(), p)));
            }
            Principals::Listed(out)
        }
        ValueKind::Unknown(u) => Principals::Unknown(u.to_string(), v.span),
        _ => Principals::Unknown(format!("a {} as `Principal`", v.type_name()), v.span),
    }
}

fn conditions(v: &Value, diags: &mut Vec<Diagnostic>) -> Vec<Condition> {
    let mut out = Vec::new();
    match &v.kind {
        ValueKind::Map(ops) => {
            for op in ops {
                match &op.value.kind {
                    ValueKind::Map(keys) => {
                        let family = parse_operator(&op.key).map(|o| o.family);
                        if family.is_none() {
                            diags.push(Diagnostic::warning(
                                format!(
                                    "unknown condition operator `{}`; the condition is left undecided",
                                    op.key
                                ),
                                op.key_span,
                            ));
                        }
                        for k in keys {
                            let mut values = Vec::new();
                            let unknown = collect_pats(&k.value, &mut values);
                            if let Some(f) = family {
                                for val in &values {
                                    if let Some(text) = val.text.as_literal()
                                        && !text.contains("${")
                                        && let Some(why) = invalid_value(f, text)
                                    {
                                        diags.push(Diagnostic::warning(
                                            format!("`{}` value {text:?} {why}", op.key),
                                            val.span,
                                        ));
                                    }
                                }
                            }
                            out.push(Condition {
                                operator: op.key.clone(),
                                key: k.key.clone(),
                                key_span: k.key_span,
                                values,
                                unknown,
                            });
                        }
                    }
                    ValueKind::Unknown(u) => out.push(Condition {
                        operator: op.key.clone(),
                        key: String::new(),
                        key_span: op.key_span,
                        values: Vec::new(),
                        unknown: Some(u.to_string()),
                    }),
                    _ => diags.push(Diagnostic::warning(
                        format!("condition operator `{}` must map keys to values", op.key),
                        op.value.span,
                    )),
                }
            }
        }
        ValueKind::Unknown(u) => out.push(Condition {
            operator: String::new(),
            key: String::new(),
            key_span: v.span,
            values: Vec::new(),
            unknown: Some(u.to_string()),
        }),
        _ => diags.push(Diagnostic::warning("`Condition` must be an object", v.span)),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::source::FileId;

    fn doc(text: &str) -> (Document, Vec<Diagnostic>) {
        let v = json::parse(text, FileId::for_path("p.json"), 0)
            .unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        parse(&v)
    }

    #[test]
    fn indexed_action_lists_answer_as_a_scan_in_order() {
        let mut names: Vec<String> = (0..30).map(|k| format!("\"svc{k}:Action{k}\"")).collect();
        names.insert(3, "\"dynamodb:Describe*\"".to_string());
        names.insert(20, "\"dynamodb:DescribeKinesisStreamingDestination\"".to_string());
        names.insert(25, "\"DynamoDB:disable*\"".to_string());
        names.insert(27, "\"dynamodb:DisableKinesisStreamingDestination\"".to_string());
        // Wildcards in the service part: tried for every service, in position order.
        names.insert(10, "\"*:DescribeKinesis*\"".to_string());
        names.insert(24, "\"dyna?odb:Disable*\"".to_string());
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
            names.join(",")
        );
        let (d, _) = doc(&text);
        let s = &d.statements[0];
        let Which::Listed(pats) = &s.actions else {
            panic!("a listed action element")
        };
        assert!(pats.len() >= INDEXED_ACTIONS);
        for action in [
            "dynamodb:DescribeKinesisStreamingDestination",
            "dynamodb:disablekinesisstreamingdestination",
            "svc7:Action7",
            "SVC29:ACTION29",
            "svc7:Action8",
            "kinesis:PutRecords",
            "kinesis:DescribeKinesisStream",
            "dynamodb:DisableSomething",
            "nocolon",
        ] {
            let scan = first_best(pats.iter().enumerate(), action);
            assert_eq!(s.match_action_list(pats, action), scan, "{action}");
        }
        // The first pattern that matches wins, a wildcard before an exact name included.
        assert_eq!(
            s.match_action_list(pats, "dynamodb:DescribeKinesisStreamingDestination"),
            (Tri::Yes, Some(3))
        );
        assert_eq!(
            s.match_action_list(pats, "dynamodb:DisableKinesisStreamingDestination"),
            (Tri::Yes, Some(24))
        );
    }

    #[test]
    fn parses_statements_with_spans() {
        let text =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["dynamodb:Disable*"],"Resource":"*"}]}"#;
        let (d, diags) = doc(text);
        assert!(diags.is_empty());
        assert_eq!(d.statements.len(), 1);
        let s = &d.statements[0];
        assert_eq!(s.effect, Effect::Deny);
        let Which::Listed(actions) = &s.actions else {
            unreachable!("listed actions expected")
        };
        assert_eq!(
            &text[actions[0].span.start as usize..actions[0].span.end as usize],
            "\"dynamodb:Disable*\""
        );
        assert!(d.has_policy_variables());
    }

    #[test]
    fn a_single_statement_object_and_not_action() {
        let (d, _) = doc(r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#);
        assert!(matches!(d.statements[0].actions, Which::Not(..)));
        assert!(!d.has_policy_variables());
    }

    #[test]
    fn malformed_statements_are_diagnosed() {
        let (d, diags) =
            doc(r#"{"Statement":[{"Action":"x:y"},{"Effect":"Maybe","Action":"x:y"},{"Effect":"Allow"}]}"#);
        assert_eq!(d.statements.len(), 1);
        assert_eq!(diags.len(), 3);
    }

    #[test]
    fn conditions_keep_operator_key_and_values() {
        let (d, _) = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*",
            "Condition":{"StringLike":{"iam:AWSServiceName":"kinesisreplication.dynamodb.amazonaws.com"}}}}"#,
        );
        let c = &d.statements[0].conditions[0];
        assert_eq!(
            (c.operator.as_str(), c.key.as_str()),
            ("StringLike", "iam:AWSServiceName")
        );
        assert_eq!(
            c.values[0].text.as_literal(),
            Some("kinesisreplication.dynamodb.amazonaws.com")
        );
    }

    #[test]
    fn malformed_elements_operators_values_and_arns_are_diagnosed() {
        let (d, diags) = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Actions":"x",
            "Resource":["table/Music","arn:aws:s3:::b","arn:aws:dynamodb"],
            "Condition":{"StringEqualz":{"k:v":"x"},"NumericLessThan":{"s3:max-keys":"ten"},
            "IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        );
        assert_eq!(d.statements.len(), 1);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert!(messages[0].contains("`Actions`"));
        assert!(messages.iter().any(|m| m.contains("table/Music is not an ARN")));
        assert!(messages.iter().any(|m| m.contains("arn:aws:dynamodb is not an ARN")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("unknown condition operator `StringEqualz`"))
        );
        assert!(messages.iter().any(|m| m.contains("\"ten\" is not a number")));
    }
}
