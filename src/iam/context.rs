//! The request context: what is known about a request's condition keys.
//!
//! A key is *present* (with its values), *absent* (known not to be in the request), or
//! *unknown* (discovery mode: it may or may not be there, with any value). Keys compare
//! case-insensitively, as AWS compares condition key names.

use std::collections::{BTreeMap, BTreeSet};

use crate::value::Template;

/// What is known about a request's condition keys.
#[derive(Clone, Default, Debug)]
pub struct Context {
    known: BTreeMap<String, Vec<Template>>,
    absent: BTreeSet<String>,
    /// Keys not in `known` are absent rather than unknown.
    pub strict: bool,
}

/// What a context says about one key.
pub(crate) enum Lookup<'a> {
    Present(&'a [Template]),
    Absent,
    Unknown,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a key's values (replacing earlier ones).
    pub fn set(&mut self, key: &str, values: Vec<Template>) {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.known.insert(k, values);
    }

    /// Adds one value to a key.
    pub fn push(&mut self, key: &str, value: Template) {
        let k = key.to_ascii_lowercase();
        self.absent.remove(&k);
        self.known.entry(k).or_default().push(value);
    }

    /// Records that a key is not in the request (ignored when the key has values).
    pub(crate) fn set_absent(&mut self, key: &str) {
        let k = key.to_ascii_lowercase();
        if !self.known.contains_key(&k) {
            self.absent.insert(k);
        }
    }

    /// Whether the context says anything about the key (present or absent).
    pub(crate) fn is_decided(&self, key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        self.known.contains_key(&k) || self.absent.contains(&k)
    }

    pub(crate) fn lookup(&self, key: &str) -> Lookup<'_> {
        let k = key.to_ascii_lowercase();
        match self.known.get(&k) {
            Some(v) => Lookup::Present(v),
            None if self.strict || self.absent.contains(&k) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_three_valued() {
        let mut ctx = Context::new();
        ctx.set("aws:SourceIp", vec![Template::lit("10.0.0.1")]);
        assert!(matches!(ctx.lookup("AWS:sourceip"), Lookup::Present([_])));
        assert!(matches!(ctx.lookup("aws:username"), Lookup::Unknown));
        ctx.set_absent("aws:username");
        assert!(matches!(ctx.lookup("aws:UserName"), Lookup::Absent));
        ctx.strict = true;
        assert!(matches!(ctx.lookup("aws:RequestedRegion"), Lookup::Absent));
        ctx.push("aws:username", Template::lit("alice"));
        assert!(matches!(ctx.lookup("aws:username"), Lookup::Present([_])));
    }
}
