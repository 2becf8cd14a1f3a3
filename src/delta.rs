//! PR delta mode (`check --diff-base REF`): the same paths are read at the base revision
//! straight from the git object database (gix; no checkout, no change to the work tree, no
//! `git` process), analysed like head, and compared. The comparison is a value ([`Delta`])
//! that reports render: access a change adds or widens, access it removes, and which of
//! head's findings are new.
//!
//! The loaders read the file system (modules, `file()`, nested stacks), so the base
//! revision's tree is written into a temporary folder under the same relative paths; the
//! base is analysed there with the same analysis root, so unchanged content has the same
//! stable identities ([`crate::finding::Identity`]) on both sides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::capability::{Covers, Decisions};
use crate::finding::{Finding, Identity};
use crate::graph::Graph;
use crate::iam::eval::Outcome;
use crate::reach::Reach;
use crate::{Analysis, Config};

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
    pub base_errors: usize,
}

/// One principal's change on one capability, over a set of resources.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The principal's id relative to the analysis root.
    pub principal: String,
    /// Its address as written (`aws_iam_role.etl`).
    pub address: String,
    pub capability: String,
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

/// Why the base could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error("--diff-base needs a git repository: {0} is not inside one")]
    NotARepository(String),
    #[error("--diff-base {rev}: no such revision in {repo} ({message})")]
    BadRevision { rev: String, repo: String, message: String },
    #[error("--diff-base {rev}: cannot read the base revision: {message}")]
    Git { rev: String, message: String },
    #[error("--diff-base: cannot write the base revision to a temporary folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(#[from] crate::InternalError),
}

/// The base revision of a PR-mode run, read and analysed.
pub struct Base {
    /// The revision as given (`origin/main`, a SHA).
    pub rev: String,
    /// The commit it resolved to (full hex id).
    pub commit: String,
    /// The base's analysis; `None` when none of the paths existed there (an empty base).
    pub analysis: Option<Analysis>,
}

/// `check --diff-base REV`: analyses the base revision of `config.paths`, then head
/// against it ([`crate::analyze_against`]): KDS015 reports what the change adds, and
/// `findings` holds only the findings new at head.
pub fn analyze(config: &Config, cwd: &Path, rev: &str) -> Result<Analysis, DeltaError> {
    let base = read_base(config, cwd, rev)?;
    Ok(crate::analyze_against(config, cwd, Some(&base))?)
}

/// Reads revision `rev` of `config.paths` from git and analyses it under the same relative
/// paths and analysis root as head. A base where none of the paths existed is empty.
pub fn read_base(config: &Config, cwd: &Path, rev: &str) -> Result<Base, DeltaError> {
    let cwd = canonical(cwd);
    let absolute: Vec<PathBuf> = config.paths.iter().map(|p| canonical(&cwd.join(p))).collect();
    let start = absolute.first().cloned().unwrap_or_else(|| cwd.clone());
    let repo_top = crate::root::git_top_level(&start)
        .ok_or_else(|| DeltaError::NotARepository(crate::paths::display_path(&start, &cwd)))?;
    let temp = tempfile::Builder::new().prefix("kdsguard-base-").tempdir()?;
    let tree_root = temp.path().join("tree");
    std::fs::create_dir_all(&tree_root)?;
    let commit = write_tree(&repo_top, rev, &tree_root)?;
    let inside = |p: &Path| p.strip_prefix(&repo_top).ok().map(|rel| tree_root.join(rel));
    let head_root = crate::root::analysis_root(&config.paths, &cwd, config.root.as_deref());
    let base_cwd = inside(&cwd).unwrap_or_else(|| tree_root.clone());
    std::fs::create_dir_all(&base_cwd)?;
    let base_paths: Vec<PathBuf> = absolute
        .iter()
        .filter_map(|p| inside(p))
        .filter(|p| p.exists())
        .collect();
    let analysis = if base_paths.is_empty() {
        None
    } else {
        let mut base_config = config.clone();
        base_config.paths = base_paths;
        base_config.baseline = None;
        base_config.root = Some(inside(&head_root).unwrap_or_else(|| tree_root.clone()));
        Some(crate::analyze(&base_config, &base_cwd)?)
    };
    Ok(Base {
        rev: rev.to_string(),
        commit,
        analysis,
    })
}

/// The access head adds and removes against `base`. `unchanged_findings` is filled in by
/// [`keep_new`] once head's findings are final.
pub fn access(head: &Parts<'_>, base: &Base) -> Delta {
    let empty = Side::default();
    let at_head = Side::of(head);
    let at_base = base.analysis.as_ref().map(|b| Side::of(&Parts::of(b)));
    let at_base = at_base.as_ref().unwrap_or(&empty);
    let added = changes(&at_head, at_base, &at_head);
    let mut removed = changes(at_base, &at_head, at_base);
    // `changes` names the stronger side `after`; a removal was stronger before.
    for c in &mut removed {
        std::mem::swap(&mut c.before, &mut c.after);
    }
    Delta {
        base: base.rev.clone(),
        commit: base.commit.clone(),
        added,
        removed,
        unchanged_findings: 0,
        base_errors: base.analysis.as_ref().map_or(0, |b| b.errors.len()),
    }
}

/// Keeps in `findings` only those whose baseline key the base did not have (as a
/// multiset); returns how many were dropped.
pub fn keep_new(findings: &mut Vec<Finding>, ids: &Identity, graph: &Graph, base: &Base) -> usize {
    let mut known: BTreeMap<crate::baseline::Entry, usize> = BTreeMap::new();
    if let Some(b) = &base.analysis {
        for f in &b.findings {
            *known.entry(crate::baseline::key(f, &b.identity, &b.graph)).or_default() += 1;
        }
    }
    let before = findings.len();
    findings.retain(|f| match known.get_mut(&crate::baseline::key(f, ids, graph)) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    });
    before - findings.len()
}

/// What one side's access is read from: the graph, the direct decisions, access through
/// other principals, and the stable identities.
pub struct Parts<'a> {
    pub graph: &'a Graph,
    pub decisions: &'a Decisions,
    pub reach: &'a Reach,
    pub identity: &'a Identity,
}

impl<'a> Parts<'a> {
    pub fn of(a: &'a Analysis) -> Parts<'a> {
        Parts {
            graph: &a.graph,
            decisions: &a.decisions,
            reach: &a.reach,
            identity: &a.identity,
        }
    }
}

/// One sentence per added change ("this change lets `aws_iam_role.etl` disable
/// replication on Orders").
pub fn added_words(c: &Change) -> String {
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
pub fn removed_words(c: &Change) -> String {
    let now = match c.after {
        "not_allowed" => String::new(),
        a => format!(" (now {})", a.replace('_', " ")),
    };
    format!("`{}` can no longer {}{now}", c.address, action_words(c))
}

/// At most this many table names are spelled out per sentence.
const NAMES_SHOWN: usize = 5;

/// What the capability lets a principal do, on what.
fn action_words(c: &Change) -> String {
    let on = on_words(c);
    match c.capability.as_str() {
        "enable" => format!("enable replication on {on}"),
        "disable" => format!("disable replication on {on}"),
        "update" => format!("change the replication settings of {on}"),
        "describe" => format!("read the replication settings of {on}"),
        "create-slr" => format!("create the replication service-linked role{}", slr_words(c)),
        "delete-slr" => format!("delete the replication service-linked role{}", slr_words(c)),
        other => format!("use `{other}` on {on}"),
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
            if dec.capability(cap).internal || !outcome.can() {
                continue;
            }
            side.put(a, principal, dec.cap_name(cap), covers, outcome);
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

/// Writes the tree of revision `rev` of the repository at `repo` under `into`; returns the
/// commit's id. Symbolic links and submodules are skipped (the loaders never follow them
/// out of a checkout either).
fn write_tree(repo: &Path, rev: &str, into: &Path) -> Result<String, DeltaError> {
    let git = |e: &dyn std::fmt::Display| DeltaError::Git {
        rev: rev.to_string(),
        message: e.to_string(),
    };
    let r = gix::open(repo).map_err(|e| git(&e))?;
    let id = r.rev_parse_single(rev).map_err(|e| DeltaError::BadRevision {
        rev: rev.to_string(),
        repo: repo.display().to_string(),
        message: e.to_string(),
    })?;
    let commit = id
        .object()
        .map_err(|e| git(&e))?
        .peel_to_commit()
        .map_err(|e| git(&e))?;
    let tree = commit.tree().map_err(|e| git(&e))?;
    write_entries(&r, &tree, into).map_err(|e| match e {
        WriteError::Io(e) => DeltaError::Io(e),
        WriteError::Git(m) => git(&m),
    })?;
    Ok(commit.id.to_string())
}

enum WriteError {
    Io(std::io::Error),
    Git(String),
}

fn write_entries(repo: &gix::Repository, tree: &gix::Tree<'_>, into: &Path) -> Result<(), WriteError> {
    let git = |e: &dyn std::fmt::Display| WriteError::Git(e.to_string());
    for entry in tree.iter() {
        let entry = entry.map_err(|e| git(&e))?;
        let name = entry.filename().to_string();
        // Tree entries are single path components; refuse anything that could escape.
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
            continue;
        }
        let path = into.join(&name);
        let mode = entry.mode();
        if mode.is_tree() {
            std::fs::create_dir_all(&path).map_err(WriteError::Io)?;
            let sub = repo.find_tree(entry.object_id()).map_err(|e| git(&e))?;
            write_entries(repo, &sub, &path)?;
        } else if mode.is_blob() {
            let blob = repo.find_blob(entry.object_id()).map_err(|e| git(&e))?;
            std::fs::write(&path, &blob.data).map_err(WriteError::Io)?;
        }
    }
    Ok(())
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| crate::paths::normalize(p))
}
