//! PR delta mode's comparison (`check --diff-base`): head's exercisable access against
//! the base's, per (principal, capability, resource) by stable id, direct and through
//! other principals (the stronger wins). The result is a value ([`Delta`]) that KDS015 and
//! the reports read, with its sentences (`added_words`, `removed_words`). Reading and
//! analysing the base revision is `delta.rs`'s job, above the pipeline.

use std::collections::BTreeMap;

use crate::capability::{Covers, Decisions};
use crate::finding::Identity;
use crate::graph::Graph;
use crate::iam::eval::Outcome;
use crate::reach::Reach;

/// What a change adds and removes.
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    /// The base revision as given (`origin/main`, a SHA).
    pub base: String,
    /// The commit it resolved to (full hex id).
    pub commit: String,
    /// Access that is new or wider at head, grouped by principal, capability and outcomes.
    pub added: Vec<Change>,
    /// Access head no longer has (information; it never fails a run).
    pub removed: Vec<Change>,
    /// Head's findings that the base already had (hidden from `findings`).
    pub unchanged_findings: usize,
    /// How many inputs failed to load at the base (their access counts as absent).
    pub(crate) base_errors: usize,
}

/// One principal's change on one capability, over a set of resources.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The principal's id relative to the analysis root.
    pub principal: String,
    /// Its address as written (`aws_iam_role.etl`).
    pub address: String,
    pub capability: String,
    /// What the capability lets a principal do, in words (the catalogue's `words`).
    pub words: Option<String>,
    /// Declared tables, in id order.
    pub tables: Vec<Named>,
    /// Whether the change covers the tables the inputs do not declare (`*`).
    pub undeclared: bool,
    /// For service-linked-role capabilities: the role.
    pub slr: Option<Named>,
    /// The decision at the base (`not_allowed` when the base had no entry) and at head.
    pub before: &'static str,
    pub after: &'static str,
}

/// A resource by stable id and the name people know it by.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// The access head adds and removes against `base`. `unchanged_findings` is filled in by
/// [`crate::baseline::keep_new`] once head's findings are final.
pub fn access(head: &Parts<'_>, base: &BaseParts<'_>) -> Delta {
    let empty = Side::default();
    let at_head = Side::of(head);
    let at_base = base.parts.as_ref().map(Side::of);
    let at_base = at_base.as_ref().unwrap_or(&empty);
    let added = changes(&at_head, at_base, &at_head);
    let mut removed = changes(at_base, &at_head, at_base);
    // `changes` names the stronger side `after`; a removal was stronger before.
    for c in &mut removed {
        std::mem::swap(&mut c.before, &mut c.after);
    }
    Delta {
        base: base.rev.to_string(),
        commit: base.commit.to_string(),
        added,
        removed,
        unchanged_findings: 0,
        base_errors: base.errors,
    }
}

/// What one side's access is read from: the graph, the direct decisions, access through
/// other principals, and the stable identities.
pub struct Parts<'a> {
    pub graph: &'a Graph,
    pub decisions: &'a Decisions,
    pub reach: &'a Reach,
    pub identity: &'a Identity,
}

/// What the comparison reads of the base revision ([`crate::analysis::Base::parts`]).
pub struct BaseParts<'a> {
    /// The revision as given and the commit it resolved to.
    pub rev: &'a str,
    pub commit: &'a str,
    /// The base's parts; `None` when none of the paths existed there (an empty base).
    pub parts: Option<Parts<'a>>,
    /// How many inputs failed to load at the base.
    pub errors: usize,
}

/// One sentence per added change ("this change lets `aws_iam_role.etl` disable
/// replication on Orders").
pub(crate) fn added_words(c: &Change) -> String {
    let was = match c.before {
        "not_allowed" => String::new(),
        b => format!(" (was {})", b.replace('_', " ")),
    };
    let how = if c.after == "conditional" {
        " under conditions"
    } else {
        ""
    };
    format!("this change lets `{}` {}{how}{was}", c.address, action_words(c))
}

/// One sentence per removed change.
pub(crate) fn removed_words(c: &Change) -> String {
    let now = match c.after {
        "not_allowed" => String::new(),
        a => format!(" (now {})", a.replace('_', " ")),
    };
    format!("`{}` can no longer {}{now}", c.address, action_words(c))
}

/// At most this many table names are spelled out per sentence.
const NAMES_SHOWN: usize = 5;

/// What the capability lets a principal do, on what: its words, then the role (for a
/// change on the service-linked role) or the tables.
fn action_words(c: &Change) -> String {
    match (&c.words, &c.slr) {
        (Some(words), Some(_)) => format!("{words}{}", slr_words(c)),
        (Some(words), None) => format!("{words} {}", on_words(c)),
        (None, _) => format!("use `{}` on {}", c.capability, on_words(c)),
    }
}

fn slr_words(c: &Change) -> String {
    c.slr
        .as_ref()
        .filter(|s| s.id.contains('#'))
        .map(|s| format!(" `{}`", s.name))
        .unwrap_or_default()
}

/// `Orders`, `Orders, Music`, `Orders and 3 more tables`, `every table not declared here`.
fn on_words(c: &Change) -> String {
    let mut names: Vec<&str> = c.tables.iter().map(|t| t.name.as_str()).collect();
    names.dedup();
    let mut parts = names.iter().take(NAMES_SHOWN).copied().collect::<Vec<_>>().join(", ");
    if names.len() > NAMES_SHOWN {
        parts.push_str(&format!(" and {} more tables", names.len() - NAMES_SHOWN));
    }
    match (parts.is_empty(), c.undeclared) {
        (true, _) => "tables not declared in the inputs (*)".to_string(),
        (false, true) => format!("{parts} and tables not declared in the inputs (*)"),
        (false, false) => parts,
    }
}

/// What a resource key names: a declared table, the undeclared tables, or an SLR.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Table,
    Undeclared,
    Slr,
}

type Grant = (String, String, Kind, String);

/// One side's grants that can be exercised (allowed or conditional), by (principal,
/// capability, resource), with the names reports need.
#[derive(Default)]
struct Side {
    grants: BTreeMap<Grant, Outcome>,
    addresses: BTreeMap<String, String>,
    names: BTreeMap<String, String>,
    /// Each capability's words, by name.
    words: BTreeMap<String, Option<String>>,
}

impl Side {
    /// Direct decisions and access through other principals (the stronger wins).
    fn of(a: &Parts<'_>) -> Side {
        let mut side = Side::default();
        let dec = a.decisions;
        let direct = dec
            .entries
            .iter()
            .map(|x| (x.principal, x.cap, &x.covers, dec.decision(x).outcome));
        let indirect = a
            .reach
            .indirect
            .iter()
            .map(|x| (x.principal, x.cap, &x.covers, x.outcome));
        for (principal, cap, covers, outcome) in direct.chain(indirect) {
            let capability = dec.capability(cap);
            if capability.internal || !outcome.can() {
                continue;
            }
            if !side.words.contains_key(&capability.id) {
                side.words.insert(capability.id.clone(), capability.words.clone());
            }
            side.put(a, principal, &capability.id, covers, outcome);
        }
        side
    }

    fn put(&mut self, a: &Parts<'_>, principal: usize, cap: &str, covers: &Covers, outcome: Outcome) {
        let ids = a.identity;
        let p = &a.graph.principals[principal];
        let principal = ids.id(&p.id);
        self.addresses
            .entry(principal.clone())
            .or_insert_with(|| p.address.clone());
        let mut put = |kind: Kind, id: String, name: String| {
            self.names.entry(id.clone()).or_insert(name);
            let slot = self
                .grants
                .entry((principal.clone(), cap.to_string(), kind, id))
                .or_insert(outcome);
            if strength(Some(&outcome)) > strength(Some(slot)) {
                *slot = outcome;
            }
        };
        match covers {
            Covers::Slr(s) => {
                let slr = &a.graph.slrs[*s];
                put(Kind::Slr, Identity::slr_key(slr, a.graph), slr.address.clone());
            }
            Covers::Tables(set) => {
                for t in set.iter(a.decisions.table_count()) {
                    let table = &a.graph.tables[t];
                    put(Kind::Table, ids.id(&table.id), table.table.name.to_string());
                }
                if set.undeclared {
                    put(Kind::Undeclared, "*".to_string(), "*".to_string());
                }
            }
        }
    }
}

/// How much a decision lets a principal do: allowed > conditional > anything else.
fn strength(o: Option<&Outcome>) -> u8 {
    match o {
        Some(Outcome::Allowed) => 2,
        Some(Outcome::Conditional) => 1,
        _ => 0,
    }
}

/// The grants of `to` stronger than in `from`, grouped; names come from `named`.
fn changes(to: &Side, from: &Side, named: &Side) -> Vec<Change> {
    let mut groups: BTreeMap<(String, String, &'static str, &'static str), Change> = BTreeMap::new();
    for (key, outcome) in &to.grants {
        let was = from.grants.get(key);
        if strength(Some(outcome)) <= strength(was) {
            continue;
        }
        let (principal, cap, kind, id) = key;
        let before = was.map_or("not_allowed", |o| o.as_str());
        let change = groups
            .entry((principal.clone(), cap.clone(), before, outcome.as_str()))
            .or_insert_with(|| Change {
                principal: principal.clone(),
                address: named.addresses.get(principal).cloned().unwrap_or_default(),
                capability: cap.clone(),
                words: named.words.get(cap).cloned().flatten(),
                tables: Vec::new(),
                undeclared: false,
                slr: None,
                before,
                after: outcome.as_str(),
            });
        let resource = Named {
            id: id.clone(),
            name: named.names.get(id).cloned().unwrap_or_default(),
        };
        match kind {
            Kind::Table => change.tables.push(resource),
            Kind::Undeclared => change.undeclared = true,
            Kind::Slr => change.slr = Some(resource),
        }
    }
    groups.into_values().collect()
}
