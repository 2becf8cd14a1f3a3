//! The analysis root: the folder that stable identities (baseline keys, SARIF fingerprints)
//! and path confinement are relative to. It is the git top level of the analysed path (the
//! nearest folder above it holding `.git`), else the analysed folder itself; `--root`
//! overrides both.

use std::path::{Path, PathBuf};

/// The nearest folder at or above `start` that holds a `.git` entry (a folder, or the file
/// a worktree or submodule has), found without running git.
pub fn git_top_level(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let first = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    first
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The analysis root of a run over `paths` (relative ones are taken from `cwd`): `chosen`
/// when given, else the git top level of the first path, else that path's folder, else
/// `cwd`. The result is canonical when the folder exists.
pub(crate) fn analysis_root(paths: &[PathBuf], cwd: &Path, chosen: Option<&Path>) -> PathBuf {
    let absolute = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    let canonical = |p: PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
    if let Some(chosen) = chosen {
        return canonical(absolute(chosen));
    }
    let Some(first) = paths.first().map(|p| absolute(p)) else {
        return git_top_level(cwd).unwrap_or_else(|| canonical(cwd.to_path_buf()));
    };
    if let Some(top) = git_top_level(&first) {
        return top;
    }
    let folder = if first.is_dir() {
        first
    } else {
        first.parent().map_or_else(|| cwd.to_path_buf(), Path::to_path_buf)
    };
    canonical(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_git_top_level_is_found_from_a_nested_file_and_folder() {
        let dir = tempfile::tempdir().unwrap();
        let repo = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("infra/iam")).unwrap();
        std::fs::write(repo.join("infra/iam/main.tf"), "").unwrap();
        assert_eq!(git_top_level(&repo.join("infra/iam")), Some(repo.clone()));
        assert_eq!(git_top_level(&repo.join("infra/iam/main.tf")), Some(repo.clone()));
        let from_parent = analysis_root(&[PathBuf::from("infra")], &repo, None);
        let from_inside = analysis_root(&[PathBuf::from(".")], &repo.join("infra"), None);
        assert_eq!(from_parent, repo);
        assert_eq!(from_inside, repo);
    }

    #[test]
    fn without_git_the_root_is_the_analysed_folder_and_an_override_wins() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("infra")).unwrap();
        std::fs::write(base.join("infra/stack.yaml"), "").unwrap();
        if git_top_level(&base).is_some() {
            return; // the temporary folder sits inside a repository: nothing to test here
        }
        assert_eq!(
            analysis_root(&[PathBuf::from("infra")], &base, None),
            base.join("infra")
        );
        assert_eq!(
            analysis_root(&[PathBuf::from("infra/stack.yaml")], &base, None),
            base.join("infra")
        );
        assert_eq!(
            analysis_root(&[PathBuf::from("infra")], &base, Some(Path::new("."))),
            base
        );
    }
}
