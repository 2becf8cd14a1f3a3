//! Templates whose `%{ if }` conditions are not known, and JSON read from strings that may
//! hold unknown pieces.
//!
//! A template (quoted, heredoc or `templatefile`) that reaches a template `if` whose
//! condition is unknown renders once with an opaque piece in place of the directive (the
//! string every other reader sees) and, besides, once per combination of branches (at most
//! [`MAX_BRANCH_RENDERINGS`]). A policy document read from such a string is read from every
//! rendering: the statements all renderings share hold as written, and those only some
//! render hold only under the conditions that select them (an undecided `Condition`
//! entry naming each one, as CloudFormation's undecided `Fn::If` does). Whatever cannot be
//! read that way is unknown as a whole, never a load error: an error stays an error only
//! when the known text alone is not JSON.

use std::rc::Rc;

use hcl_edit::template::Template as HclTemplate;

use super::{Eval, MAX_RENDERINGS, Scope};
use crate::json::TemplateJsonError;
use crate::load::terraform::text::{TextBuilder, TextMap};
use crate::source::{FileId, Span, Spanned};
use crate::value::{Entry, Symbol, Template, Value, ValueKind};

/// How many renderings of one template the branches of its unknown `if`s may take; past
/// it, the string keeps only its opaque pieces (and a document read from it is unknown).
pub(crate) const MAX_BRANCH_RENDERINGS: usize = 16;

/// A template `if` reached with an unknown condition.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct Fork {
    /// The whole directive, `%{ if }` to `%{ endif }`.
    pub(crate) directive: Span,
    /// The condition expression.
    pub condition: Span,
    /// The condition as written.
    pub expr: String,
    /// Why its value is not known.
    pub reason: String,
}

/// One rendering of a template with a branch chosen at each unknown `if`.
#[derive(Debug)]
pub(crate) struct Rendering {
    pub template: Template,
    pub map: Rc<TextMap>,
}

/// Every rendering of a template over the branches of its unknown `if`s.
#[derive(Debug)]
pub(crate) struct Branches {
    pub(crate) renderings: Vec<Rendering>,
    /// The unknown `if`s reached by any rendering (each directive and condition once).
    pub(crate) forks: Vec<Fork>,
}

/// What `template_into` does at a template `if` whose condition is not known.
pub(crate) struct Choices {
    /// `None`: the plain rendering (an opaque piece); else the branches to take, in the
    /// order the unknown `if`s are reached (`true` past the end).
    script: Option<Vec<bool>>,
    /// The branch taken at each unknown `if` reached so far.
    trail: Vec<bool>,
    /// The unknown `if`s reached so far.
    forks: Vec<Fork>,
}

impl Choices {
    pub fn plain() -> Choices {
        Choices {
            script: None,
            trail: Vec::new(),
            forks: Vec::new(),
        }
    }

    fn scripted(script: Vec<bool>) -> Choices {
        Choices {
            script: Some(script),
            trail: Vec::new(),
            forks: Vec::new(),
        }
    }

    /// Whether an unknown `if` was reached.
    pub(crate) fn reached_unknown_if(&self) -> bool {
        !self.forks.is_empty()
    }

    /// The branch to render at an unknown `if` (`None`: an opaque piece instead).
    pub(crate) fn choose(&mut self, fork: Fork) -> Option<bool> {
        self.forks.push(fork);
        let script = self.script.as_ref()?;
        let taken = script.get(self.trail.len()).copied().unwrap_or(true);
        self.trail.push(taken);
        Some(taken)
    }
}

/// What JSON text in a string turned out to be.
pub(crate) enum ReadJson {
    /// A JSON value (for a policy read over branches, their statements merged).
    Value(Value),
    /// Text whose JSON depends on values not known: an unknown value saying which.
    Unknown(Value),
    /// Text that is not JSON whatever the unknowns are.
    Invalid(Spanned<String>),
}

impl Eval<'_> {
    /// Renders template `t` once per combination of branches of its unknown `if`s and keeps
    /// the renderings for the string `plain` (its opaque rendering, at `span`).
    pub(super) fn render_branches(
        &self,
        t: &HclTemplate,
        at: (FileId, Span),
        scope: &Scope,
        heredoc: bool,
        plain: &Value,
    ) {
        let (file, span) = at;
        let (notes_before, errors_before) = (self.diagnostics.borrow().len(), self.errors.borrow().len());
        let mut renderings = Vec::new();
        let mut forks: Vec<Fork> = Vec::new();
        let mut scripts = vec![Vec::new()];
        while let Some(script) = scripts.pop() {
            if renderings.len() == MAX_BRANCH_RENDERINGS {
                // Past the limit the branches are not read: a document from this string is
                // read from its opaque rendering alone (unknown where the `if`s stand).
                renderings.clear();
                self.note(
                    format!(
                        "this template's unknown `%{{ if }}` conditions make more than {MAX_BRANCH_RENDERINGS} combinations of branches; kdsguard does not read the branches, and a policy read from it is unknown where they stand"
                    ),
                    span,
                );
                break;
            }
            let mut b = TextBuilder::new();
            let mut choices = Choices::scripted(script.clone());
            self.template_into(t, file, scope, heredoc, &mut b, &mut choices);
            // Each `if` first reached with `true` here has a sibling taking the other branch.
            for i in script.len()..choices.trail.len() {
                let mut sibling = choices.trail[..i].to_vec();
                sibling.push(false);
                scripts.push(sibling);
            }
            for f in choices.forks {
                if !forks.contains(&f) {
                    forks.push(f);
                }
            }
            renderings.push(Rendering {
                template: b.template,
                map: Rc::new(b.map),
            });
        }
        self.keep_first_notes(notes_before, errors_before);
        if renderings.len() < 2 {
            return;
        }
        let Some(base) = plain.as_template() else { return };
        let mut all = self.branches.borrow_mut();
        let slot = all.entry(span).or_default();
        if slot.len() < MAX_RENDERINGS && !slot.iter().any(|(t, _)| t == base) {
            slot.push((base.clone(), Rc::new(Branches { renderings, forks })));
        }
    }

    /// Drops the notes and errors the extra renderings repeated (the plain rendering already
    /// made them), keeping the new ones once.
    fn keep_first_notes(&self, notes_before: usize, errors_before: usize) {
        let mut notes = self.diagnostics.borrow_mut();
        let added: Vec<_> = notes.drain(notes_before..).collect();
        for d in added {
            if !notes.contains(&d) {
                notes.push(d);
            }
        }
        drop(notes);
        let mut errors = self.errors.borrow_mut();
        let added: Vec<_> = errors.drain(errors_before..).collect();
        for e in added {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
    }

    /// The renderings over unknown `if`s of a string value, if it was built with some.
    fn branches_of(&self, v: &Value) -> Option<Rc<Branches>> {
        let t = v.as_template()?;
        let all = self.branches.borrow();
        all.get(&v.span)?.iter().find(|(tt, _)| tt == t).map(|(_, b)| b.clone())
    }

    /// Reads the JSON held in string `v`. When `policy` is set and the string was built over
    /// unknown template `if`s, every rendering is read and their statements merged.
    pub fn read_json(&self, v: &Value, t: &Template, policy: bool) -> ReadJson {
        if policy && let Some(branches) = self.branches_of(v) {
            return self.read_branches(v, &branches);
        }
        let map = self.text_map(v);
        let origin = |offset: usize| map.as_ref().and_then(|m| m.origin(offset));
        match crate::json::parse_template(t, &origin, v.span) {
            Ok(doc) => ReadJson::Value(doc),
            Err(e) => self.unreadable(v, e),
        }
    }

    /// A string that is not JSON: invalid when its known text alone is not, else unknown.
    fn unreadable(&self, v: &Value, e: TemplateJsonError) -> ReadJson {
        match e.depends_on {
            None => ReadJson::Invalid(e.error),
            Some(sym) => {
                let (what, why) = match &sym {
                    Symbol::Opaque(o) => (o.id.clone(), o.reason.clone()),
                    other => (
                        Template::sym(other.clone()).to_string(),
                        "it is fixed at deployment".to_string(),
                    ),
                };
                self.note(
                    format!("this text is JSON only once `{what}` is known ({why}); it is read as an unknown document"),
                    v.span,
                );
                ReadJson::Unknown(Value::unknown(
                    what,
                    format!("the JSON text depends on a value not known statically: {why}"),
                    v.span,
                ))
            }
        }
    }

    /// Reads a policy from every rendering of a template over its unknown `if`s.
    fn read_branches(&self, v: &Value, branches: &Branches) -> ReadJson {
        let mut docs = Vec::new();
        let mut failures = Vec::new();
        for r in &branches.renderings {
            let origin = |offset: usize| r.map.origin(offset);
            match crate::json::parse_template(&r.template, &origin, v.span) {
                Ok(doc) => docs.push(doc),
                Err(e) => failures.push(e),
            }
        }
        let conditions = || {
            branches
                .forks
                .iter()
                .map(|f| format!("`{}`", f.expr))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if docs.is_empty() && failures.iter().all(|e| e.depends_on.is_none()) {
            // Not JSON whichever branch is taken.
            if let Some(e) = failures.first() {
                return ReadJson::Invalid(e.error.clone());
            }
        }
        if !failures.is_empty() {
            self.note(
                format!(
                    "this text is JSON only for some values of the template condition(s) {}; it is read as an unknown document",
                    conditions()
                ),
                v.span,
            );
            return ReadJson::Unknown(self.unknown_at(
                v.span,
                format!(
                    "the document depends on template condition(s) {} that are not known",
                    conditions()
                ),
            ));
        }
        match merge_statements(&docs, &branches.forks) {
            Some(doc) => ReadJson::Value(doc),
            None => {
                self.note(
                    format!(
                        "the branches of the template condition(s) {} render documents that differ beyond their statements; it is read as an unknown document",
                        conditions()
                    ),
                    v.span,
                );
                ReadJson::Unknown(self.unknown_at(
                    v.span,
                    format!(
                        "the document depends on template condition(s) {} that are not known",
                        conditions()
                    ),
                ))
            }
        }
    }
}

/// The policy the renderings `docs` may be: their common frame (everything but
/// `Statement`, which must be equal), and every statement once, in first-seen order; a
/// statement not in every rendering holds only under the unknown `if`s around it. `None`
/// when the documents differ elsewhere or a statement list is not a list or object.
fn merge_statements(docs: &[Value], forks: &[Fork]) -> Option<Value> {
    let first = docs.first()?;
    let frame = |doc: &Value| -> Option<Vec<Entry>> {
        match &doc.kind {
            ValueKind::Map(entries) => Some(entries.iter().filter(|e| e.key != "Statement").cloned().collect()),
            _ => None,
        }
    };
    let common = frame(first)?;
    let mut merged: Vec<(Value, usize)> = Vec::new();
    for doc in docs {
        if frame(doc)? != common {
            return None;
        }
        let statements = match doc.get("Statement").map(|s| &s.kind) {
            Some(ValueKind::List(items)) => items.clone(),
            Some(ValueKind::Map(_)) => doc.get("Statement").cloned().into_iter().collect(),
            None => Vec::new(),
            Some(_) => return None,
        };
        for st in statements {
            match merged.iter_mut().find(|(m, _)| *m == st) {
                Some((_, seen)) => *seen += 1,
                None => merged.push((st, 1)),
            }
        }
    }
    let span = first.get("Statement").map_or(first.span, |s| s.span);
    let key_span = first.entry("Statement").map_or(first.span, |e| e.key_span);
    let statements = merged
        .into_iter()
        .map(|(mut st, seen)| {
            if seen < docs.len() {
                hold_only_under(&mut st, forks);
            }
            st
        })
        .collect();
    let mut entries = common;
    entries.push(Entry {
        key: "Statement".to_string(),
        key_span,
        value: Value::new(ValueKind::List(statements), span),
    });
    Some(Value::new(ValueKind::Map(entries), first.span))
}

/// Makes a statement hold only under the unknown `if`s that overlap it (all of them when
/// none does): one undecided `Condition` entry per condition.
fn hold_only_under(statement: &mut Value, forks: &[Fork]) {
    let overlapping: Vec<&Fork> = forks
        .iter()
        .filter(|f| {
            f.directive.file == statement.span.file
                && f.directive.start < statement.span.end
                && statement.span.start < f.directive.end
        })
        .collect();
    let named: Vec<&Fork> = if overlapping.is_empty() {
        forks.iter().collect()
    } else {
        overlapping
    };
    let mut markers: Vec<(Span, Value)> = Vec::new();
    for f in named {
        if markers.iter().any(|(s, _)| *s == f.condition) {
            continue;
        }
        markers.push((
            f.condition,
            Value::unknown(
                f.expr.clone(),
                format!(
                    "the statement is rendered only in one branch of this template `if`: {}",
                    f.reason
                ),
                f.condition,
            ),
        ));
    }
    for (span, value) in markers {
        crate::load::document::hold_only_if(statement, TEMPLATE_IF, span, value);
    }
}

/// The `Condition` operator key under which a template `if` is recorded.
const TEMPLATE_IF: &str = "%{ if }";
