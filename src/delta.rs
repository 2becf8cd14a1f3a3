//! PR delta mode (`check --diff-base REF`): the same paths are read at the base revision
//! straight from the git object database (gix; no checkout, no change to the work tree, no
//! `git` process), analysed like head, and compared ([`crate::compare`]). The comparison is
//! a value ([`Delta`](crate::compare::Delta)) that reports render: access a change adds or
//! widens, access it removes, and which of head's findings are new.
//!
//! The loaders read the file system (modules, `file()`, nested stacks), so the base
//! revision's tree is written into a temporary folder under the same relative paths; the
//! base is analysed there with the same analysis root, so unchanged content has the same
//! stable identities ([`crate::finding::Identity`]) on both sides.

use std::path::{Path, PathBuf};

use crate::analysis::{Analysis, Base};
use crate::error::InternalError;
use crate::pipeline;
use crate::settings::Config;

/// Why the base could not be read. Each message says all there is: no variant has a
/// `source`, so a front end printing the chain (anyhow's `{:#}`) does not repeat it.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error("--diff-base needs a git repository: {0} is not inside one")]
    NotARepository(String),
    #[error("--diff-base {rev}: no such revision in {repo} ({message})")]
    BadRevision { rev: String, repo: String, message: String },
    #[error("--diff-base {rev}: cannot read the base revision: {message}")]
    Git { rev: String, message: String },
    #[error("--diff-base: cannot write the base revision to a temporary folder: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl From<std::io::Error> for DeltaError {
    fn from(e: std::io::Error) -> Self {
        DeltaError::Io(e)
    }
}

/// `check --diff-base REV`: analyses the base revision of `config.paths`, then head
/// against it ([`pipeline::analyze_against`]): KDS015 reports what the change adds, and
/// `findings` holds only the findings new at head.
pub fn analyze(config: &Config, cwd: &Path, rev: &str) -> Result<Analysis, DeltaError> {
    let base = read_base(config, cwd, rev)?;
    Ok(pipeline::analyze_against(config, cwd, Some(&base))?)
}

/// Reads revision `rev` of `config.paths` from git and analyses it under the same relative
/// paths and analysis root as head. A base where none of the paths existed is empty.
pub(crate) fn read_base(config: &Config, cwd: &Path, rev: &str) -> Result<Base, DeltaError> {
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
        Some(pipeline::analyze(&base_config, &base_cwd)?)
    };
    Ok(Base {
        rev: rev.to_string(),
        commit,
        analysis,
    })
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

#[cfg(test)]
mod error_tests {
    use super::*;
    use std::error::Error as _;

    /// anyhow's `{:#}` prints a message, then its sources: a variant whose message already
    /// holds its cause must not name the cause as a source too ("m: m").
    #[test]
    fn delta_errors_say_their_cause_once() {
        let io = DeltaError::from(std::io::Error::other("disk full"));
        assert_eq!(
            io.to_string(),
            "--diff-base: cannot write the base revision to a temporary folder: disk full"
        );
        assert!(io.source().is_none());
        let internal = DeltaError::from(InternalError::Cancelled);
        assert_eq!(internal.to_string(), crate::error::CANCELLED);
        assert!(internal.source().is_none());
    }
}
