//! The rule catalogue: each rule's data (from `rules/<ID>.toml`, compiled in) and its
//! check. Checks read capability decisions and the graph; none re-evaluates IAM.

mod kds001;
mod kds002;
mod kds003;
mod kds004;
mod kds005;
mod kds006;
mod kds007;
mod kds008;
mod kds009;
mod kds010;
mod kds011;
mod kds012;
mod kds013;
mod kds014;
mod kds015;

use rayon::prelude::*;
use serde::Deserialize;

use crate::capability::{CapDecision, Covers, Decisions, TableSet};
use crate::error::RuleDataError;
use crate::finding::{Finding, Resource};
use crate::graph::Graph;
use crate::model::{RuleId, Severity};
use crate::source::SourceMap;

/// A rule's data, exactly as its `rules/<ID>.toml` gives it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: RuleId,
    pub name: String,
    pub severity: String,
    pub summary: String,
    pub(crate) rationale: String,
    pub help: String,
    pub bad: String,
    pub good: String,
}

impl RuleMeta {
    pub fn severity(&self) -> Severity {
        Severity::parse(&self.severity).unwrap_or(Severity::Error)
    }

    pub fn docs_path(&self) -> String {
        format!("docs/rules/{}.md", self.id)
    }
}

/// What a check reads.
pub struct CheckContext<'a> {
    pub graph: &'a Graph,
    pub decisions: &'a Decisions,
    /// Access through other principals.
    pub reach: &'a crate::reach::Reach,
    /// The SLRs' statuses.
    pub slrs: &'a [crate::slr::SlrStatus],
    pub sources: &'a SourceMap,
    pub config: &'a crate::settings::Config,
    /// Stable identities (the PR delta names principals and resources by them).
    pub identity: &'a crate::finding::Identity,
    /// What the change adds and removes, in PR mode (`check --diff-base`).
    pub delta: Option<&'a crate::compare::Delta>,
}

type Check = fn(&RuleMeta, &CheckContext<'_>) -> Vec<Finding>;

/// The registry: one line per rule.
const RULES: &[(&str, Check)] = &[
    (include_str!("../../rules/KDS001.toml"), kds001::check),
    (include_str!("../../rules/KDS002.toml"), kds002::check),
    (include_str!("../../rules/KDS003.toml"), kds003::check),
    (include_str!("../../rules/KDS004.toml"), kds004::check),
    (include_str!("../../rules/KDS005.toml"), kds005::check),
    (include_str!("../../rules/KDS006.toml"), kds006::check),
    (include_str!("../../rules/KDS007.toml"), kds007::check),
    (include_str!("../../rules/KDS008.toml"), kds008::check),
    (include_str!("../../rules/KDS009.toml"), kds009::check),
    (include_str!("../../rules/KDS010.toml"), kds010::check),
    (include_str!("../../rules/KDS011.toml"), kds011::check),
    (include_str!("../../rules/KDS012.toml"), kds012::check),
    (include_str!("../../rules/KDS013.toml"), kds013::check),
    (include_str!("../../rules/KDS015.toml"), kds015::check),
];

/// Whether a rule fires only in PR mode (`--diff-base`).
pub(crate) fn fires_only_in_pr_mode(rule: RuleId) -> bool {
    rule == kds015::ID
}

/// Whether user text (a suppression's rule list entry) names, by id or name, a rule that fires
/// only in PR mode.
pub(crate) fn names_pr_mode_rule(text: &str) -> bool {
    kds015::ID == *text || text == kds015::NAME
}

/// A rule that reads the problems of the suppressions, after they are applied.
type SuppressionCheck = fn(&RuleMeta, &[crate::suppress::Problem]) -> Vec<Finding>;

/// The suppression rule: the last in the catalogue, run by [`run_suppressions`].
const SUPPRESSION_RULE: (&str, SuppressionCheck) = (include_str!("../../rules/KDS014.toml"), kds014::check);

/// Every rule's data, parsed once per process, in registry order: [`RULES`], then the
/// suppression rule (so `registry()?[k]` is `RULES[k]`'s).
fn registry() -> Result<&'static [RuleMeta], RuleDataError> {
    static PARSED: std::sync::OnceLock<Result<Vec<RuleMeta>, RuleDataError>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            RULES
                .iter()
                .map(|(text, _)| *text)
                .chain(std::iter::once(SUPPRESSION_RULE.0))
                .map(|text| toml::from_str::<RuleMeta>(text).map_err(RuleDataError))
                .collect()
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Every rule's data, in id order.
pub fn catalogue() -> Result<Vec<RuleMeta>, RuleDataError> {
    let mut rules = registry()?.to_vec();
    rules.sort_by_key(|r| r.id);
    Ok(rules)
}

/// Runs the suppression rule over the problems `suppress::apply` found.
pub(crate) fn run_suppressions(problems: &[crate::suppress::Problem]) -> Result<Vec<Finding>, RuleDataError> {
    let meta = &registry()?[RULES.len()];
    Ok((SUPPRESSION_RULE.1)(meta, problems))
}

/// Runs every rule: each on its own (they only read the context), in parallel, and their
/// findings are put together in catalogue order.
pub fn run(ctx: &CheckContext<'_>) -> Result<Vec<Finding>, RuleDataError> {
    let metas = registry()?;
    let per_rule: Vec<Vec<Finding>> = RULES
        .par_iter()
        .zip(metas)
        .map(|((_, check), meta)| check(meta, ctx))
        .collect();
    Ok(per_rule.into_iter().flatten().collect())
}

/// A finding of `meta`'s rule with its text filled in from the data.
pub fn finding(meta: &RuleMeta, span: crate::source::Span, message: String, label: String) -> Finding {
    Finding {
        rule: meta.id,
        name: meta.name.clone(),
        severity: meta.severity(),
        message,
        span,
        label,
        labels: Vec::new(),
        principal: None,
        resource: None,
        capability: None,
        help: meta.help.clone(),
        docs: meta.docs_path(),
    }
}

/// The rule's documentation page, generated from its data (committed as
/// `docs/rules/<ID>.md`; a test fails when the committed page is stale).
pub fn render_doc(meta: &RuleMeta) -> String {
    let lang = |s: &str| if s.trim_start().starts_with('{') { "json" } else { "hcl" };
    format!(
        "<!-- Generated from rules/{id}.toml; edit that file, then run `KDSGUARD_BLESS=1 cargo test --test catalogue`. -->\n\
         # {id} `{name}`\n\n\
         Default severity: **{severity}**\n\n\
         ## What it finds\n\n{summary}.\n\n\
         ## Why it matters\n\n{rationale}\n\n\
         ## Example\n\nFlagged:\n\n```{bl}\n{bad}\n```\n\nNot flagged:\n\n```{gl}\n{good}\n```\n\n\
         ## How to fix\n\n{help}\n",
        id = meta.id,
        name = meta.name,
        severity = meta.severity,
        summary = meta.summary.trim(),
        rationale = meta.rationale.trim(),
        bl = lang(&meta.bad),
        bad = meta.bad.trim(),
        gl = lang(&meta.good),
        good = meta.good.trim(),
        help = meta.help.trim(),
    )
}

/// Entries one statement grants, gathered for one finding: the union of their table sets,
/// and what the entry covering the smallest table says (undeclared-only sets count last).
pub(crate) struct Gathered<T> {
    /// The entries' sets, united once at the end ([`Gathered::into_parts`]): a principal's
    /// entries may be many one-table sets, and uniting as they come would copy the growing
    /// union each time.
    sets: Vec<TableSet>,
    order: usize,
    pub first: Option<T>,
}

impl<T> Default for Gathered<T> {
    fn default() -> Self {
        Gathered {
            sets: Vec::new(),
            order: usize::MAX,
            first: None,
        }
    }
}

impl<T> Gathered<T> {
    /// Adds an entry's set (of `n` declared tables) and what it says.
    pub fn add(&mut self, set: &TableSet, n: usize, payload: T) {
        self.sets.push(set.clone());
        let order = set.first(n).unwrap_or(usize::MAX);
        if self.first.is_none() || order < self.order {
            self.order = order;
            self.first = Some(payload);
        }
    }

    /// The union of the sets added, and what the entry covering the smallest table says.
    pub(crate) fn into_parts(self) -> (TableSet, Option<T>) {
        (crate::capability::union_all(self.sets), self.first)
    }
}

/// Where the capability's primary action is granted: the first (in file and line order)
/// Allow statement of an identity or resource policy written in the templates; when only a
/// bundled AWS managed policy grants it, the place that attaches that policy; when only an
/// unresolved policy or value may grant it, that value; else the principal. A boundary's
/// or SCP's Allow only permits, it does not grant, so it is never the answer.
pub(crate) fn granting_statement(
    ctx: &CheckContext<'_>,
    principal: usize,
    d: &CapDecision,
) -> Option<crate::source::Span> {
    granting(ctx, principal, d, |r| r.primary)
}

/// Every statement that grants the capability's primary action (written Allows of identity
/// and resource policies, in file and line order; else the one place [`granting_statement`]
/// falls back to). Rules that merge findings per grant key them by this whole set, not by its
/// first member: which statement comes first depends on how the templates are ordered, the
/// set only on the decision (so Terraform and CloudFormation of one estate agree).
pub(crate) fn granting_statements(ctx: &CheckContext<'_>, principal: usize, d: &CapDecision) -> Vec<GrantAt> {
    let mut written: Vec<GrantAt> = allows(d, |r| r.primary)
        .map(|b| b.statement)
        .filter(|s| !s.is_builtin())
        .map(|s| GrantAt::new(ctx, s))
        .collect();
    written.sort();
    written.dedup();
    if written.is_empty() {
        written.extend(granting_statement(ctx, principal, d).map(|s| GrantAt::new(ctx, s)));
    }
    written
}

/// A granting statement, ordered by file and offset.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GrantAt {
    path: String,
    pub span: crate::source::Span,
}

impl GrantAt {
    fn new(ctx: &CheckContext<'_>, span: crate::source::Span) -> Self {
        GrantAt {
            path: ctx.sources.path(span),
            span,
        }
    }
}

/// The Allows of identity and resource policies in the proofs of the requirements `which`
/// selects (a boundary's or SCP's Allow only permits, it does not grant).
fn allows<'a>(
    a: &'a CapDecision,
    which: impl Fn(&crate::capability::RequirementDecision) -> bool + 'a,
) -> impl Iterator<Item = &'a crate::iam::eval::Because> + 'a {
    use crate::iam::eval::Layer;
    a.requirements
        .iter()
        .filter(move |r| which(r))
        .flat_map(|r| r.decision.because.iter())
        .filter(|b| {
            b.effect == crate::iam::policy::Effect::Allow && matches!(b.layer, Layer::Identity | Layer::Resource)
        })
}

/// Like [`granting_statement`], for the requirements matched by `which`.
pub fn granting(
    ctx: &CheckContext<'_>,
    principal: usize,
    a: &CapDecision,
    which: impl Fn(&crate::capability::RequirementDecision) -> bool,
) -> Option<crate::source::Span> {
    let grants: Vec<&crate::iam::eval::Because> = allows(a, &which).collect();
    let written = grants
        .iter()
        .map(|b| b.statement)
        .filter(|s| !s.is_builtin())
        .min_by_key(|s| (ctx.sources.path(*s), s.start));
    let principal = &ctx.graph.principals[principal];
    let attached = || {
        grants
            .iter()
            .filter_map(|b| {
                let k = b.policy_id?.index();
                principal
                    .via
                    .iter()
                    .find(|v| v.policy == k && !v.boundary)
                    .map(|v| v.attachment)
            })
            .filter(|s| !s.is_builtin())
            .min_by_key(|s| (ctx.sources.path(*s), s.start))
    };
    // Granted only through something unresolved (an unknown policy or value): point at it.
    let unresolved = || {
        a.requirements
            .iter()
            .filter(|r| which(r))
            .flat_map(|r| r.decision.open.iter())
            .find_map(|o| match o {
                crate::iam::eval::Open::Unknown { span, .. } if !span.is_builtin() => Some(*span),
                _ => None,
            })
    };
    // Last resort, so that no finding is dropped for want of a position: the principal.
    written.or_else(attached).or_else(unresolved).or(principal.span)
}

/// A principal's "declared here" label, on the declaration's first line.
pub(crate) fn declared_here(ctx: &CheckContext<'_>, principal: usize) -> Option<crate::finding::Label> {
    let p = &ctx.graph.principals[principal];
    p.span.map(|decl| crate::finding::Label {
        span: ctx.sources.first_line(decl),
        message: format!("{} declared here", p.class.as_str()),
    })
}

/// Why `kdsguard explain` has no page to print.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// No rule has that id or name; `known` lists them (`KDS001 (name), ...`).
    #[error("no rule {rule:?}; known rules: {known}")]
    UnknownRule { rule: String, known: String },
    #[error(transparent)]
    Data(#[from] RuleDataError),
}

/// `kdsguard explain <ID|name>`: the rule's page.
pub fn explain(rule: &str) -> Result<String, ExplainError> {
    let cat = catalogue()?;
    match cat.iter().find(|r| RuleId::parse(rule) == Some(r.id) || r.name == rule) {
        Some(r) => Ok(without_comments(&render_doc(r))),
        None => Err(ExplainError::UnknownRule {
            rule: rule.to_string(),
            known: cat
                .iter()
                .map(|r| format!("{} ({})", r.id, r.name))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The page without `<!-- … -->` maintainer comments (and the blank line one leaves).
fn without_comments(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("-->") {
            Some(end) => rest[start + end + 3..]
                .strip_prefix('\n')
                .unwrap_or(&rest[start + end + 3..]),
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// `kdsguard rules`: one line per rule.
pub fn list() -> Result<String, RuleDataError> {
    let mut out = String::new();
    for r in catalogue()? {
        out.push_str(&format!(
            "{:<8} {:<28} {:<8} {}\n",
            r.id,
            r.name,
            r.severity,
            r.summary.trim()
        ));
    }
    Ok(out)
}

/// The report id of what an entry covers: the smallest declared table of the set (`*` when
/// it covers only undeclared tables), or the service-linked role.
pub(crate) fn covers_resource(ctx: &CheckContext<'_>, covers: &Covers) -> Resource {
    match covers {
        Covers::Tables(set) => match set.first(ctx.decisions.table_count()) {
            Some(t) => Resource::Table(t),
            None => Resource::Undeclared,
        },
        Covers::Slr(s) => Resource::Slr(*s),
    }
}

/// A short human name of what an entry covers (`table Music, table Orders and 3 more`).
pub(crate) fn covers_name(ctx: &CheckContext<'_>, covers: &Covers) -> String {
    match covers {
        Covers::Tables(set) => ctx.decisions.phrase(set),
        Covers::Slr(_) => "the service-linked role".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parsed registry lines up with `RULES` (a rule's check runs with its own data)
    /// and ends with the suppression rule; it is parsed once and shared.
    #[test]
    fn the_registry_is_parsed_once_in_registry_order() {
        let metas = registry().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(metas.len(), RULES.len() + 1);
        for ((text, _), meta) in RULES.iter().zip(metas) {
            let own: RuleMeta = toml::from_str(text).unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(own.id, meta.id);
        }
        assert_eq!(metas[RULES.len()].id, RuleId::new(14));
        let again = registry().unwrap_or_else(|e| unreachable!("{e}"));
        assert!(std::ptr::eq(metas, again));
    }

    #[test]
    fn rule_data_parses_and_ids_match_names() {
        let cat = catalogue().unwrap_or_else(|e| unreachable!("{e}"));
        let ids: Vec<_> = cat.iter().map(|r| (r.id.to_string(), r.name.as_str())).collect();
        assert_eq!(
            ids.iter().map(|(id, name)| (id.as_str(), *name)).collect::<Vec<_>>(),
            [
                ("KDS001", "enable-incomplete"),
                ("KDS002", "enable-without-slr"),
                ("KDS003", "slr-create-unscoped"),
                ("KDS004", "slr-deletable"),
                ("KDS005", "slr-lifecycle-unprotected"),
                ("KDS006", "manage-via-wildcard"),
                ("KDS007", "describe-incomplete"),
                ("KDS008", "destination-key-policy"),
                ("KDS009", "destination-foreign"),
                ("KDS010", "unknown-action"),
                ("KDS011", "access-guardrail"),
                ("KDS012", "unresolved-value"),
                ("KDS013", "indirect-manage"),
                ("KDS014", "suppression-problem"),
                ("KDS015", "access-added"),
            ]
        );
        for r in &cat {
            assert!(Severity::parse(&r.severity).is_some(), "{}", r.id);
        }
    }
}
