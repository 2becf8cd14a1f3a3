//! Path and glob helpers every layer may use: the path as reports show it, `.`/`..`
//! folded without the file system, and glob matching of names.

use std::path::{Component, Path, PathBuf};

/// The path as reports show it: relative to `cwd` where possible, `/` separators,
/// `.` and `..` folded.
pub(crate) fn display_path(path: &Path, cwd: &Path) -> String {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let full = normalize(&full);
    let cwd = normalize(cwd);
    let shown = match full.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => full,
    };
    shown
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .replace("//", "/")
}

/// Folds `.` and `..` components without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `text` matches the glob (invalid globs were rejected when the config was read).
pub(crate) fn glob_matches(glob: &str, text: &str) -> bool {
    globset::Glob::new(glob)
        .map(|g| g.compile_matcher().is_match(text))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_relative_with_forward_slashes() {
        let cwd = Path::new("/work/project");
        assert_eq!(display_path(Path::new("infra/./main.tf"), cwd), "infra/main.tf");
        assert_eq!(display_path(Path::new("/work/project/a/../b"), cwd), "b");
        assert_eq!(display_path(Path::new("/work/project"), cwd), ".");
        assert_eq!(display_path(Path::new("/elsewhere/x.yaml"), cwd), "/elsewhere/x.yaml");
    }

    #[test]
    fn globs_match() {
        assert!(glob_matches("prod-*", "prod-orders"));
        assert!(!glob_matches("prod-*", "dev-orders"));
    }
}
