//! Confinement of the paths templates name (`file()`, module sources, nested-stack
//! `TemplateURL`s, SAM `CodeUri`/`DefinitionUri`) to the analysis root.
//!
//! **Invariant:** a path is resolved with every symlink followed before it is compared
//! with the (canonical) root, so neither `..` nor a link leads outside; a symlink loop is
//! told apart from a missing file.

use std::path::{Path, PathBuf};

use crate::paths::display_path;

/// Why a named path is not read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Refusal {
    /// It resolves outside the analysis root.
    Outside { resolved: PathBuf },
    /// Resolving it meets a symlink loop.
    Loop,
    /// Nothing is there (or it cannot be resolved for another reason).
    Missing,
}

impl Refusal {
    /// The message for `named` (the path as the template gives it); paths are shown
    /// relative to `cwd` where they can be.
    pub fn message(&self, named: &str, root: &Path, cwd: &Path) -> String {
        match self {
            Refusal::Outside { resolved } => format!(
                "`{named}` resolves to `{}`, outside the analysis root `{}`; it is not read (analyse from a folder that contains it, or set --root)",
                display_path(resolved, cwd),
                display_path(root, cwd)
            ),
            Refusal::Loop => format!("`{named}` is a symlink loop (too many levels of symbolic links); it is not read"),
            Refusal::Missing => format!("`{named}` was not found"),
        }
    }

    /// Whether this refusal is an error of the input (a missing file is only unknown).
    pub(crate) fn is_error(&self) -> bool {
        !matches!(self, Refusal::Missing)
    }
}

/// The canonical form of `root` (itself when it cannot be resolved).
pub(crate) fn canonical_root(root: &Path) -> PathBuf {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// Resolves `candidate` (symlinks followed) and checks that it lies inside `root`, which
/// must be canonical ([`canonical_root`]).
pub(crate) fn resolve_inside(candidate: &Path, root: &Path) -> Result<PathBuf, Refusal> {
    match std::fs::canonicalize(candidate) {
        Ok(resolved) if resolved.starts_with(root) => Ok(resolved),
        Ok(resolved) => Err(Refusal::Outside { resolved }),
        Err(e) if is_loop(&e) => Err(Refusal::Loop),
        Err(_) => match lexical_escape(candidate, root) {
            // Not there, but named outside anyway: say so rather than "not found".
            Some(resolved) => Err(Refusal::Outside { resolved }),
            None => Err(Refusal::Missing),
        },
    }
}

/// ELOOP: the error `canonicalize` returns on a symlink loop.
fn is_loop(e: &std::io::Error) -> bool {
    const ELOOP: i32 = 40;
    e.raw_os_error() == Some(ELOOP) || e.to_string().contains("symbolic links")
}

/// The path with `.`/`..` folded, when that alone already leaves `root`.
fn lexical_escape(candidate: &Path, root: &Path) -> Option<PathBuf> {
    let folded = crate::paths::normalize(candidate);
    // Compare the part that exists, resolved, so a root reached through a link still matches.
    let existing = folded.ancestors().find(|a| a.exists())?;
    let resolved = std::fs::canonicalize(existing).ok()?;
    let rest = folded.strip_prefix(existing).ok()?;
    let full = resolved.join(rest);
    (!full.starts_with(root)).then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_outside_missing_and_looping() {
        let dir = tempfile::tempdir().unwrap();
        let base = canonical_root(dir.path());
        let root = base.join("repo");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/p.json"), "{}").unwrap();
        std::fs::write(base.join("outside.json"), "{}").unwrap();
        assert_eq!(
            resolve_inside(&root.join("sub/../sub/p.json"), &root),
            Ok(root.join("sub/p.json"))
        );
        assert_eq!(
            resolve_inside(&root.join("sub/../../outside.json"), &root),
            Err(Refusal::Outside {
                resolved: base.join("outside.json")
            })
        );
        assert!(matches!(
            resolve_inside(&root.join("../nowhere/x.json"), &root),
            Err(Refusal::Outside { .. })
        ));
        assert_eq!(
            resolve_inside(&root.join("sub/none.json"), &root),
            Err(Refusal::Missing)
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("outside.json"), root.join("link.json")).unwrap();
            assert!(matches!(
                resolve_inside(&root.join("link.json"), &root),
                Err(Refusal::Outside { .. })
            ));
            std::os::unix::fs::symlink(root.join("b"), root.join("a")).unwrap();
            std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
            assert_eq!(resolve_inside(&root.join("a"), &root), Err(Refusal::Loop));
        }
    }

    #[test]
    fn messages_name_the_path_and_the_root() {
        let m = Refusal::Outside {
            resolved: PathBuf::from("/w/outside.json"),
        }
        .message("../outside.json", Path::new("/w/repo"), Path::new("/w/repo"));
        assert!(m.contains("`../outside.json` resolves to `/w/outside.json`"), "{m}");
        assert!(m.contains("outside the analysis root `.`"), "{m}");
    }
}
