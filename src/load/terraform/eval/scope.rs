//! Name bindings of an evaluation: `each`, `count`, `for` variables, `dynamic` iterators.

use crate::value::Value;

/// A scope frame: one name bound to a value (`each`, `count`, a `for` variable, a
/// `dynamic` block iterator).
pub struct Scope<'p> {
    parent: Option<&'p Scope<'p>>,
    vars: Vec<(String, Value)>,
}

impl<'p> Scope<'p> {
    pub fn root() -> Scope<'static> {
        Scope {
            parent: None,
            vars: Vec::new(),
        }
    }

    pub fn with(&'p self, name: impl Into<String>, value: Value) -> Scope<'p> {
        self.with_all(vec![(name.into(), value)])
    }

    pub(crate) fn with_all(&'p self, vars: Vec<(String, Value)>) -> Scope<'p> {
        Scope {
            parent: Some(self),
            vars,
        }
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&Value> {
        let mut s = Some(self);
        while let Some(scope) = s {
            if let Some((_, v)) = scope.vars.iter().find(|(n, _)| n == name) {
                return Some(v);
            }
            s = scope.parent;
        }
        None
    }
}
