//! Bounds on what one run reads and computes, so that hostile input ends in a located
//! error that names the limit (and the `kdsguard.toml` key that raises it) instead of
//! unbounded time or memory. `docs/limits.md` lists them.
//!
//! **Invariant:** every limit has a default here, a `[limits]` key in `kdsguard.toml`
//! (parsed in `config.rs`), and a message built by [`Limit::exceeded`].

/// The highest nesting depth that may be configured: the loaders' tree walks recurse,
/// and this bound keeps them well inside the stack.
pub(crate) const MAX_NESTING_DEPTH: usize = 1024;

/// The limits of a run. [`Limits::default`] holds the documented defaults.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limits {
    /// Largest single input file, in bytes.
    pub file_bytes: u64,
    /// Largest sum of the sizes of every file read in a run, in bytes.
    pub total_bytes: u64,
    /// Deepest nesting of YAML/JSON collections and HCL expressions.
    pub nesting_depth: usize,
    /// Most YAML nodes that alias (`*name`) expansion may produce in one file.
    pub yaml_alias_nodes: usize,
    /// Most instances `count`/`for_each` (or `Fn::ForEach`) may expand one resource to.
    pub instances: usize,
    /// Deepest chain of module calls (and of nested stacks).
    pub module_depth: usize,
    /// Most expression evaluation steps per Terraform module tree.
    pub eval_steps: u64,
    /// Longest string a template interpolation or string function may build, in bytes.
    pub template_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: 10 * 1024 * 1024,
            total_bytes: 500 * 1024 * 1024,
            nesting_depth: 256,
            yaml_alias_nodes: 1_000_000,
            instances: 10_000,
            module_depth: 8,
            eval_steps: 5_000_000,
            template_length: 1024 * 1024,
        }
    }
}

/// One limit, for naming it in messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Limit {
    FileBytes,
    TotalBytes,
    NestingDepth,
    YamlAliasNodes,
    Instances,
    ModuleDepth,
    EvalSteps,
    TemplateLength,
}

impl Limit {
    /// Every limit, in the order `docs/limits.md` lists them.
    pub const ALL: [Limit; 8] = [
        Limit::FileBytes,
        Limit::TotalBytes,
        Limit::NestingDepth,
        Limit::YamlAliasNodes,
        Limit::Instances,
        Limit::ModuleDepth,
        Limit::EvalSteps,
        Limit::TemplateLength,
    ];

    /// The key under `[limits]` in `kdsguard.toml`.
    pub fn key(self) -> &'static str {
        match self {
            Limit::FileBytes => "file-bytes",
            Limit::TotalBytes => "total-bytes",
            Limit::NestingDepth => "nesting-depth",
            Limit::YamlAliasNodes => "yaml-alias-nodes",
            Limit::Instances => "instances",
            Limit::ModuleDepth => "module-depth",
            Limit::EvalSteps => "eval-steps",
            Limit::TemplateLength => "template-length",
        }
    }

    /// What the limit bounds, as a phrase.
    pub fn what(self) -> &'static str {
        match self {
            Limit::FileBytes => "file size limit",
            Limit::TotalBytes => "total input size limit",
            Limit::NestingDepth => "nesting depth limit",
            Limit::YamlAliasNodes => "YAML alias expansion limit",
            Limit::Instances => "instance limit",
            Limit::ModuleDepth => "module depth limit",
            Limit::EvalSteps => "evaluation step limit",
            Limit::TemplateLength => "template length limit",
        }
    }

    /// The message of an exceeded limit: what happened, then the limit, its value and the
    /// key that raises it, e.g. "file is 12000000 bytes: exceeds the file size limit
    /// (10485760; raise it with `[limits] file-bytes` in kdsguard.toml)".
    pub(crate) fn exceeded(self, what_happened: &str, value: impl std::fmt::Display) -> String {
        format!(
            "{what_happened}: exceeds the {} ({value}; raise it with `[limits] {}` in kdsguard.toml)",
            self.what(),
            self.key()
        )
    }

    /// Whether `message` was built by [`Limit::exceeded`] (for callers that pass a reason
    /// through plain strings and must still report an exceeded limit as an error).
    pub(crate) fn is_exceeded_message(message: &str) -> bool {
        message.contains("; raise it with `[limits] ")
    }

    /// This limit's value in `limits`.
    pub fn value(self, limits: &Limits) -> u64 {
        let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        match self {
            Limit::FileBytes => limits.file_bytes,
            Limit::TotalBytes => limits.total_bytes,
            Limit::NestingDepth => wide(limits.nesting_depth),
            Limit::YamlAliasNodes => wide(limits.yaml_alias_nodes),
            Limit::Instances => wide(limits.instances),
            Limit::ModuleDepth => wide(limits.module_depth),
            Limit::EvalSteps => limits.eval_steps,
            Limit::TemplateLength => wide(limits.template_length),
        }
    }

    /// Sets this limit in `limits` (values beyond a `usize` saturate).
    pub fn set(self, limits: &mut Limits, value: u64) {
        let narrow = usize::try_from(value).unwrap_or(usize::MAX);
        match self {
            Limit::FileBytes => limits.file_bytes = value,
            Limit::TotalBytes => limits.total_bytes = value,
            Limit::NestingDepth => limits.nesting_depth = narrow,
            Limit::YamlAliasNodes => limits.yaml_alias_nodes = narrow,
            Limit::Instances => limits.instances = narrow,
            Limit::ModuleDepth => limits.module_depth = narrow,
            Limit::EvalSteps => limits.eval_steps = value,
            Limit::TemplateLength => limits.template_length = narrow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_has_a_distinct_key_and_round_trips() {
        let mut keys: Vec<&str> = Limit::ALL.iter().map(|l| l.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Limit::ALL.len());
        let mut limits = Limits::default();
        for (n, limit) in Limit::ALL.iter().enumerate() {
            limit.set(&mut limits, 7 + n as u64);
            assert_eq!(limit.value(&limits), 7 + n as u64);
        }
    }

    #[test]
    fn the_message_names_the_limit_and_its_key() {
        let m = Limit::FileBytes.exceeded("file is 11 bytes", 10);
        assert_eq!(
            m,
            "file is 11 bytes: exceeds the file size limit (10; raise it with `[limits] file-bytes` in kdsguard.toml)"
        );
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let d = Limits::default();
        assert_eq!(d.file_bytes, 10 * 1024 * 1024);
        assert_eq!(d.total_bytes, 500 * 1024 * 1024);
        assert_eq!(d.instances, 10_000);
    }
}
