//! `Finding`: the one type every output (human, JSON, SARIF) reads, and the stable
//! identities (relative to the analysis root) that baselines, fingerprints and deltas key on.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::capability::CapId;
use crate::graph::{Graph, SLR_VIRTUAL_ID};
use crate::model::{RuleId, Severity};
use crate::source::Span;

/// A labelled place in a template that matters to a finding.
#[derive(Clone, PartialEq, Debug)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// What a finding is about, by index into the run's [`Graph`]; reports and keys read its
/// id through [`Resource::id`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Resource {
    /// A declared table (index into [`Graph::tables`]).
    Table(usize),
    /// The tables the inputs do not declare (`*`).
    Undeclared,
    /// The account's service-linked role (index into [`Graph::slrs`]).
    Slr(usize),
    /// One declaration of it (`declaration` indexes the role's `declarations`).
    SlrDeclaration { slr: usize, declaration: usize },
}

impl Resource {
    /// Its id in the run (`path#address`, a virtual id, or `*`).
    pub fn id(self, graph: &Graph) -> &str {
        match self {
            Resource::Table(t) => &graph.tables[t].id,
            Resource::Undeclared => "*",
            Resource::Slr(s) => &graph.slrs[s].id,
            Resource::SlrDeclaration { slr, declaration } => &graph.slrs[slr].declarations[declaration].id,
        }
    }

    /// The service-linked role it is, or declares.
    pub fn slr(self) -> Option<usize> {
        match self {
            Resource::Slr(s) | Resource::SlrDeclaration { slr: s, .. } => Some(s),
            Resource::Table(_) | Resource::Undeclared => None,
        }
    }
}

/// A rule's verdict at one place.
#[derive(Clone, PartialEq, Debug)]
pub struct Finding {
    pub rule: RuleId,
    pub name: String,
    pub severity: Severity,
    pub message: String,
    /// Where the finding points (the statement, action string, or declaration).
    pub span: Span,
    /// The primary label's text, then further labelled places.
    pub label: String,
    pub labels: Vec<Label>,
    /// The principal concerned, where there is one (an index into [`Graph::principals`]).
    pub principal: Option<usize>,
    /// The resource concerned, where there is one.
    pub resource: Option<Resource>,
    /// The capability concerned, where there is one (baseline key): an id into the run's
    /// catalogue ([`crate::capability::Decisions::cap_name`] names it).
    pub capability: Option<CapId>,
    pub help: String,
    pub docs: String,
}

/// Stable identities: ids (`path#address`) and display paths re-expressed relative to the
/// analysis root ([`crate::root::analysis_root`]), so a finding keeps its key whichever
/// folder kdsguard ran from and however the path was spelled. Built once per run; the keys
/// of baselines, SARIF fingerprints and the PR delta read it.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// Each input's display path → its path relative to the root.
    inputs: BTreeMap<String, String>,
    /// The canonical working directory and root (lexical fallback for other paths).
    cwd: PathBuf,
    root: PathBuf,
    /// The analysed paths relative to the root, sorted (`.` for the root itself).
    pub scope: Vec<String>,
}

impl Identity {
    /// The identities of a run over `paths` (as given, relative to `cwd`) rooted at
    /// `root`, before the inputs are known.
    pub fn new(paths: &[PathBuf], root: &Path, cwd: &Path) -> Identity {
        let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut id = Identity {
            cwd,
            root,
            ..Identity::default()
        };
        let mut scope: Vec<String> = paths
            .iter()
            .map(|p| id.rebase_canonical(&p.to_string_lossy()))
            .collect();
        scope.sort();
        scope.dedup();
        id.scope = scope;
        id
    }

    /// Sorts inputs by their path relative to the root, so that everything ordered by
    /// input (table indexes, hence "the smallest table of a set") is the same from any
    /// folder; remembers each input's stable path.
    pub fn order(&mut self, inputs: &mut [crate::model::Input]) {
        for input in inputs.iter() {
            let rebased = self.rebase_canonical(&input.path);
            self.inputs.insert(input.path.clone(), rebased);
        }
        inputs.sort_by(|a, b| {
            self.path(&a.path)
                .cmp(&self.path(&b.path))
                .then_with(|| a.path.cmp(&b.path))
        });
    }

    /// A display path (relative to the cwd, or absolute) relative to the root, with `/`.
    pub fn path(&self, display: &str) -> String {
        match self.inputs.get(display) {
            Some(p) => p.clone(),
            None => self.rebase_lexical(display),
        }
    }

    /// An id (`path#address`, or a virtual id without `#`) with its path relative to the root.
    pub fn id(&self, id: &str) -> String {
        match id.split_once('#') {
            Some((path, rest)) => format!("{}#{rest}", self.path(path)),
            None => id.to_string(),
        }
    }

    /// The identity of a finding's resource. About the account's service-linked role (a
    /// finding or entry whose capability is about the SLR, `about_role`: `create-slr`,
    /// `delete-slr`) it is one key
    /// per account however many inputs declare the role, and the same whether or not any
    /// does: [`SLR_VIRTUAL_ID`], or `slr:<account>` when the run has several accounts'
    /// roles. About one declaration (KDS005), it is that declaration's own id when several
    /// are declared, else the account's key. Anything else: its stable id.
    pub fn resource(&self, resource: Resource, about_role: bool, graph: &Graph) -> String {
        // With several declarations (in one account or not), each keeps its own identity
        // for findings about that declaration; the role carries its first declaration's.
        let several = graph.slrs.iter().map(|s| s.declarations.len()).sum::<usize>() > 1;
        match resource {
            Resource::Slr(s) if about_role || !(several && graph.slrs[s].declared()) => {
                Self::slr_key(&graph.slrs[s], graph)
            }
            Resource::SlrDeclaration { slr, .. } if !several => Self::slr_key(&graph.slrs[slr], graph),
            _ => self.id(resource.id(graph)),
        }
    }

    /// The key of an account's service-linked role (what its `create-slr`/`delete-slr`
    /// access and findings are about): [`SLR_VIRTUAL_ID`], or `slr:<account>` when the run
    /// has several accounts' roles.
    pub(crate) fn slr_key(slr: &crate::graph::SlrNode, graph: &Graph) -> String {
        match (&slr.account, graph.slrs.len() > 1) {
            (Some(a), true) => format!("slr:{a}"),
            _ => SLR_VIRTUAL_ID.to_string(),
        }
    }

    fn rebase_canonical(&self, display: &str) -> String {
        let full = self.cwd.join(display);
        match std::fs::canonicalize(&full) {
            Ok(c) => relative(&c, &self.root),
            Err(_) => self.rebase_lexical(display),
        }
    }

    fn rebase_lexical(&self, display: &str) -> String {
        relative(&crate::paths::normalize(&self.cwd.join(display)), &self.root)
    }
}

/// `path` relative to `root` with `/` separators (`.` for the root), else `path` itself.
fn relative(path: &Path, root: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.to_string_lossy().replace('\\', "/"),
    }
}

/// Names the account of the service-linked role a finding is about when the run has
/// several accounts' roles, so two findings that differ only in their account read
/// differently. (Several declarations in one account are one role: nothing to tell apart.)
pub(crate) fn name_slrs(findings: &mut [Finding], graph: &Graph) {
    if graph.slrs.len() < 2 {
        return;
    }
    for f in findings {
        let Some(slr) = f.resource.and_then(Resource::slr).map(|s| &graph.slrs[s]) else {
            continue;
        };
        if let Some(account) = &slr.account {
            let _ = write!(f.message, " (the replication role of account {account})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{SlrDeclaration, SlrNode};

    fn declaration(id: &str) -> SlrDeclaration {
        SlrDeclaration {
            id: id.to_string(),
            address: id.to_string(),
            input: 0,
            protection: crate::model::Protection::Unprotected,
            span: Span::default(),
        }
    }

    fn graph(declarations: &[&str]) -> Graph {
        let mut g = Graph::default();
        g.slrs.push(SlrNode {
            id: declarations.first().map_or(SLR_VIRTUAL_ID, |d| *d).to_string(),
            address: String::new(),
            account: None,
            declarations: declarations.iter().map(|d| declaration(d)).collect(),
        });
        g.tables.push(crate::graph::TableNode {
            id: "t.tf#aws_dynamodb_table.t".to_string(),
            input: 0,
            table: crate::model::Table {
                address: "aws_dynamodb_table.t".to_string(),
                name: crate::value::Template::lit("t"),
                arn: crate::value::Template::lit("arn:aws:dynamodb:us-east-1:111122223333:table/t"),
                span: Span::default(),
            },
            stream_arn: None,
            stream: None,
            destination_span: None,
        });
        g
    }

    /// The role is one key per account, and a declaration is that key unless several are
    /// declared: then each declaration keeps its own (KDS005's findings stay apart), while
    /// findings about the role's access still share the account's key.
    #[test]
    fn slr_resources_key_by_account_unless_several_declarations_tell_apart() {
        let ids = Identity::default();
        let one = graph(&["a.tf#aws_iam_service_linked_role.r"]);
        let two = graph(&["a.tf#aws_iam_service_linked_role.r", "b.yaml#Role"]);
        let none = graph(&[]);
        let decl = |d| Resource::SlrDeclaration { slr: 0, declaration: d };
        assert_eq!(ids.resource(decl(0), false, &one), SLR_VIRTUAL_ID);
        assert_eq!(ids.resource(Resource::Slr(0), false, &one), SLR_VIRTUAL_ID);
        assert_eq!(ids.resource(decl(1), false, &two), "b.yaml#Role");
        assert_eq!(ids.resource(decl(0), false, &two), "a.tf#aws_iam_service_linked_role.r");
        assert_eq!(
            ids.resource(Resource::Slr(0), false, &two),
            "a.tf#aws_iam_service_linked_role.r"
        );
        assert_eq!(ids.resource(Resource::Slr(0), true, &two), SLR_VIRTUAL_ID);
        assert_eq!(ids.resource(Resource::Slr(0), false, &none), SLR_VIRTUAL_ID);
        assert_eq!(
            ids.resource(Resource::Table(0), false, &none),
            "t.tf#aws_dynamodb_table.t"
        );
        assert_eq!(ids.resource(Resource::Undeclared, false, &none), "*");
        assert_eq!(Resource::Table(0).slr(), None);
        assert_eq!(decl(1).slr(), Some(0));
    }
}
