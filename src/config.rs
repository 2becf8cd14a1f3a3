//! `kdsguard.toml`: the one closest to the analysed path, found upward from it (then from
//! the working directory; or named with `--config`), read with spans, and checked into a
//! [`Config`]. A problem in the file is an error that names the file, line and column.
//! `exclude` globs are relative to the file's folder.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{self, Capabilities};
use crate::model::{RuleId, Severity};
use crate::settings::{Config, Guardrail, RuleLevel};
use crate::source::SourceFile;
use crate::value::Pins;

/// The file name looked for.
pub(crate) const FILE_NAME: &str = "kdsguard.toml";

/// Why a run's configuration cannot be made: a named path or the config file is missing or
/// invalid, an exclude is not a glob, or a selector names no rule.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A path to analyse does not exist.
    #[error("no such file or directory: {}", .0.display())]
    NoSuchPath(PathBuf),
    /// An `--exclude` that is not a glob.
    #[error("--exclude {glob:?}: {error}")]
    Exclude { glob: String, error: globset::Error },
    /// The config file cannot be read (`file` as displayed).
    #[error("{file}: cannot read: {error}")]
    Unreadable { file: String, error: std::io::Error },
    /// A problem in the config file, at `place` (`file:line:column`, or `file`).
    #[error("{place}: {problem}")]
    Invalid { place: String, problem: Problem },
    /// A `--select`/`--ignore`/`--extend-select` selector that selects no rule.
    #[error(transparent)]
    Selector(#[from] UnknownSelector),
    /// The capability catalogue cannot be read.
    #[error(transparent)]
    Catalogue(#[from] crate::error::CatalogueError),
    /// The rule catalogue cannot be read.
    #[error(transparent)]
    Rules(#[from] crate::error::RuleDataError),
}

/// What is wrong at one place of a config file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// Not TOML, or not the config's shape (TOML's own message).
    #[error("{0}")]
    Syntax(String),
    #[error("fail-on must be \"error\", \"warning\" or \"note\"")]
    FailOn,
    #[error("bad glob: {0}")]
    Glob(globset::Error),
    #[error("unknown rule `{0}`")]
    UnknownRule(String),
    #[error("a rule's level must be \"off\", \"note\", \"warning\" or \"error\"")]
    RuleLevel,
    #[error(transparent)]
    Selector(UnknownSelector),
    /// `expected` lists the known keys.
    #[error("unknown limit `{key}`; expected one of {expected}")]
    UnknownLimit { key: String, expected: String },
    #[error("limit `{0}` must be a positive integer")]
    NotPositive(&'static str),
    #[error("limit `nesting-depth` may be at most {}", crate::limits::MAX_NESTING_DEPTH)]
    NestingDepth,
    /// `expected` lists the capabilities a guardrail may name.
    #[error("unknown capability `{capability}`; expected one of {expected}")]
    UnknownCapability { capability: String, expected: String },
}

/// A rule selector that selects no rule, with the nearest rule id or name.
#[derive(Debug, thiserror::Error)]
pub struct UnknownSelector {
    pub selector: String,
    pub nearest: Option<String>,
}

impl std::fmt::Display for UnknownSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let selector = &self.selector;
        match &self.nearest {
            Some(n) => write!(
                f,
                "unknown rule selector `{selector}`; did you mean `{n}`? (`kdsguard rules` lists them)"
            ),
            None => write!(f, "unknown rule selector `{selector}`"),
        }
    }
}

/// The config file to use, as ruff finds its own: the one named; else the closest
/// `kdsguard.toml` upward from the first analysed path (a file's folder, or the folder
/// itself); else the closest upward from `cwd`.
pub fn find(named: Option<&Path>, paths: &[PathBuf], cwd: &Path) -> Option<PathBuf> {
    if let Some(p) = named {
        return Some(if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) });
    }
    paths
        .first()
        .and_then(|p| closest(&cwd.join(p)))
        .or_else(|| closest(cwd))
}

/// The closest `kdsguard.toml` in `start`'s folder (`start` itself when it is one) or above.
pub(crate) fn closest(start: &Path) -> Option<PathBuf> {
    let start = crate::paths::normalize(start);
    let dir = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    dir.ancestors().map(|d| d.join(FILE_NAME)).find(|p| p.is_file())
}

/// A glob relative to `base` as the absolute glob the loader matches (`base`'s own
/// characters escaped; a glob starting with `**` or `/` is kept as it is).
pub(crate) fn anchor_glob(base: &Path, glob: &str) -> String {
    if glob.starts_with("**") || glob.starts_with('/') {
        return glob.to_string();
    }
    let base = crate::paths::normalize(base).to_string_lossy().replace('\\', "/");
    let glob = glob.strip_prefix("./").unwrap_or(glob);
    format!("{}/{glob}", globset::escape(base.trim_end_matches('/')))
}

/// What a front end sets over the config file, already parsed (the command line's
/// `--config`, paths, `--exclude`, `--var`, `--var-file`, `--parameter`,
/// `--parameter-file`, `--account`/`--region`/`--partition`, `--root`), and the process's
/// environment. The library's own type: `main.rs` parses arguments into it, [`resolve`]
/// merges.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// A config file named explicitly; else one is found for the paths ([`find`]).
    pub config: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
    /// Exclude globs relative to the working folder (checked by [`resolve`]).
    pub excludes: Vec<String>,
    pub tf_vars: Vec<(String, String)>,
    pub tf_var_files: Vec<PathBuf>,
    pub cfn_parameters: Vec<(String, String)>,
    pub cfn_parameter_files: Vec<PathBuf>,
    /// Pins set here win over the file's.
    pub pins: Pins,
    pub root: Option<PathBuf>,
    /// The environment's variables; `TF_VAR_<name>` ones become Terraform variables.
    pub environment: Vec<(String, String)>,
}

/// The run's [`Config`]: the config file ([`find`], [`load`]), then `over` on top — its
/// excludes added, variables and parameters after the file's, pins and root where set, and
/// `TF_VAR_*` from the environment (sorted; Terraform reads them below tfvars files and
/// `--var`). Also returns a warning for each named path the excludes leave out. Fails on a
/// named path that does not exist, a config file that cannot be read or is invalid, or an
/// exclude that is not a glob.
pub fn resolve(over: &Overrides, cwd: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    for p in over.paths.iter().filter(|p| p.as_os_str() != "-") {
        if !cwd.join(p).exists() {
            return Err(ConfigError::NoSuchPath(p.clone()));
        }
    }
    let mut config = match find(over.config.as_deref(), &over.paths, cwd) {
        Some(path) => load(&path, cwd)?,
        None => Config::default(),
    };
    for g in &over.excludes {
        globset::Glob::new(g).map_err(|error| ConfigError::Exclude { glob: g.clone(), error })?;
        config.load.exclude.push(anchor_glob(cwd, g));
    }
    let warnings = over
        .paths
        .iter()
        .filter(|p| crate::load::is_excluded(p, cwd, &config.load.exclude))
        .map(|p| {
            format!(
                "{} is excluded (config `exclude` or --exclude) and not analysed",
                p.display()
            )
        })
        .collect();
    config.paths = over.paths.clone();
    config.load.tf_vars.extend(over.tf_vars.iter().cloned());
    config.load.tf_var_files.extend(over.tf_var_files.iter().cloned());
    let mut env_vars: Vec<(String, String)> = over
        .environment
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("TF_VAR_").map(|name| (name.to_string(), v.clone())))
        .collect();
    env_vars.sort();
    config.load.tf_env_vars = env_vars;
    config.load.cfn_parameters.extend(over.cfn_parameters.iter().cloned());
    config
        .load
        .cfn_parameter_files
        .extend(over.cfn_parameter_files.iter().cloned());
    config.pins = Pins {
        account: over.pins.account.clone().or(config.pins.account.take()),
        region: over.pins.region.clone().or(config.pins.region.take()),
        partition: over.pins.partition.clone().or(config.pins.partition.take()),
    };
    config.root = over.root.clone().or(config.root.take());
    Ok((config, warnings))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    fail_on: Option<Spanned<String>>,
    account: Option<String>,
    region: Option<String>,
    partition: Option<String>,
    #[serde(default)]
    slr_exists: bool,
    /// Whether access through other principals is followed (default on).
    reach: Option<bool>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
    scps: Option<RawScps>,
    #[serde(default, rename = "guardrail")]
    guardrails: Vec<Spanned<RawGuardrail>>,
    /// Where rule pages live (SARIF `helpUri`, Markdown links).
    docs_url: Option<String>,
    /// `[limits]`: each key a limit of `crate::limits`, a positive integer.
    #[serde(default)]
    limits: BTreeMap<Spanned<String>, Spanned<i64>>,
    /// Rule selection, as ruff's: ids, names, id prefixes or `ALL`.
    select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    extend_select: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScps {
    /// Whether AWS's `FullAWSAccess` is attached at every level (the default).
    full_aws_access: Option<bool>,
    /// Globs of principal addresses or names the declared SCPs apply to.
    apply_to: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGuardrail {
    capability: Spanned<String>,
    /// Table-name glob; default every table.
    tables: Option<Spanned<String>>,
    /// Principals (address, name or id globs) allowed to hold the capability.
    #[serde(default)]
    only: Vec<Spanned<String>>,
    description: Option<String>,
}

/// Reads and checks a config file. Its `exclude` globs are relative to its folder.
pub fn load(path: &Path, cwd: &Path) -> Result<Config, ConfigError> {
    let display = crate::paths::display_path(path, cwd);
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Unreadable {
        file: display.clone(),
        error,
    })?;
    let mut config = parse(&display, &text)?;
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let dir = full.parent().unwrap_or(cwd);
    for g in &mut config.load.exclude {
        *g = anchor_glob(dir, g);
    }
    Ok(config)
}

/// Parses config text; errors are `file:line:column: message`.
pub fn parse(display: &str, text: &str) -> Result<Config, ConfigError> {
    parse_with(display, text, None)
}

/// [`parse`] for a run that decides the capabilities of `capabilities` (`None`: the
/// bundled `rules/capabilities.toml`): guardrails may name those, and the [`Config`] keeps
/// them.
pub fn parse_with(display: &str, text: &str, capabilities: Option<Arc<Capabilities>>) -> Result<Config, ConfigError> {
    let file = SourceFile::new(display.to_string(), std::sync::Arc::from(text));
    let at = |span: Option<Range<usize>>, problem: Problem| -> ConfigError {
        let place = match span {
            Some(r) => format!(
                "{display}:{}",
                file.line_col(u32::try_from(r.start).unwrap_or(u32::MAX))
            ),
            None => display.to_string(),
        };
        ConfigError::Invalid { place, problem }
    };
    let raw: Raw = toml::from_str(text).map_err(|e| at(e.span(), Problem::Syntax(e.message().to_string())))?;
    let mut config = Config::default();
    let bundled;
    let caps: &Capabilities = match &capabilities {
        Some(caps) => caps,
        None => {
            bundled = catalog::capabilities()?;
            &bundled
        }
    };
    if let Some(f) = &raw.fail_on {
        config.fail_on = Severity::parse(f.get_ref()).ok_or_else(|| at(Some(f.span()), Problem::FailOn))?;
    }
    config.pins.account = raw.account;
    config.pins.region = raw.region;
    config.pins.partition = raw.partition;
    config.slr_exists = raw.slr_exists;
    config.docs_url = raw.docs_url;
    config.reach = raw.reach.unwrap_or(true);
    for g in &raw.exclude {
        globset::Glob::new(g.get_ref()).map_err(|e| at(Some(g.span()), Problem::Glob(e)))?;
        config.load.exclude.push(g.get_ref().clone());
    }
    let known = crate::rules::catalogue().map_err(ConfigError::Rules)?;
    for (id, level) in &raw.rules {
        let Some(rule) = known
            .iter()
            .find(|r| RuleId::parse(id.get_ref()) == Some(r.id) || &r.name == id.get_ref())
        else {
            return Err(at(Some(id.span()), Problem::UnknownRule(id.get_ref().clone())));
        };
        let level = match level.get_ref().as_str() {
            "off" => RuleLevel::Off,
            s => RuleLevel::On(Severity::parse(s).ok_or_else(|| at(Some(level.span()), Problem::RuleLevel))?),
        };
        config.rule_levels.insert(rule.id, level);
    }
    for s in raw.select.iter().flatten().chain(&raw.ignore).chain(&raw.extend_select) {
        check_selector(&known, s.get_ref()).map_err(|e| at(Some(s.span()), Problem::Selector(e)))?;
    }
    let strings = |v: &[Spanned<String>]| v.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>();
    select(
        &mut config,
        &Selection {
            select: raw.select.as_deref().map(strings),
            ignore: strings(&raw.ignore),
            extend_select: strings(&raw.extend_select),
        },
    )?;
    if let Some(scps) = &raw.scps {
        config.full_aws_access = scps.full_aws_access.unwrap_or(true);
        if let Some(apply) = &scps.apply_to {
            let mut pats = Vec::new();
            for a in apply {
                globset::Glob::new(a.get_ref()).map_err(|e| at(Some(a.span()), Problem::Glob(e)))?;
                pats.push(a.get_ref().clone());
            }
            config.scp_apply_to = Some(pats);
        }
    }
    config.load.limits = limits(&raw.limits, &at)?;
    for g in &raw.guardrails {
        let span = g.span();
        let g = g.get_ref();
        let reported = caps
            .id(g.capability.get_ref())
            .filter(|&c| !caps.capabilities[usize::from(c.0)].internal);
        let Some(capability) = reported else {
            let known: Vec<&str> = caps.reported().map(|c| c.id.as_str()).collect();
            return Err(at(
                Some(g.capability.span()),
                Problem::UnknownCapability {
                    capability: g.capability.get_ref().clone(),
                    expected: known.join(", "),
                },
            ));
        };
        for p in g.only.iter().chain(g.tables.iter()) {
            globset::Glob::new(p.get_ref()).map_err(|e| at(Some(p.span()), Problem::Glob(e)))?;
        }
        let line = file.line_col(u32::try_from(span.start).unwrap_or(u32::MAX)).line;
        config.guardrails.push(Guardrail {
            capability,
            tables: g.tables.as_ref().map(|t| t.get_ref().clone()),
            only: g.only.iter().map(|o| o.get_ref().clone()).collect(),
            description: g.description.clone(),
            origin: format!("{display}:{line}"),
        });
    }
    config.capabilities = capabilities;
    Ok(config)
}

/// One layer of rule selection (the config file's, then the command line's), as ruff's
/// `select`, `ignore` and `extend-select`: each selector is `ALL`, a rule id, a rule name
/// or an id prefix (`KDS00`).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Replaces what earlier layers selected.
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    /// Adds to what is selected.
    pub(crate) extend_select: Vec<String>,
}

/// How specific an exact id or name is (more than any prefix).
const EXACT: usize = usize::MAX;

/// Applies a selection layer over the config's rule levels: a rule left out is `off`; a
/// rule selected again (a later `select`) is on at its configured severity. For each rule
/// the most specific matching selector decides; at equal specificity `ignore` wins.
pub fn select(config: &mut Config, layer: &Selection) -> Result<(), ConfigError> {
    let known = crate::rules::catalogue().map_err(ConfigError::Rules)?;
    for s in layer
        .select
        .iter()
        .flatten()
        .chain(&layer.ignore)
        .chain(&layer.extend_select)
    {
        check_selector(&known, s)?;
    }
    let best = |selectors: &[String], rule: &crate::rules::RuleMeta| -> Option<usize> {
        selectors.iter().filter_map(|s| specificity(s, rule)).max()
    };
    for rule in &known {
        let was_on = config.rule_levels.get(&rule.id) != Some(&RuleLevel::Off);
        let on = match &layer.select {
            Some(select) => best(select, rule),
            None => was_on.then_some(0),
        };
        let on = on.max(best(&layer.extend_select, rule));
        let off = best(&layer.ignore, rule);
        let enabled = match (on, off) {
            (Some(on), Some(off)) => on > off,
            (on, _) => on.is_some(),
        };
        if !enabled {
            config.rule_levels.insert(rule.id, RuleLevel::Off);
        } else if !was_on {
            config.rule_levels.remove(&rule.id);
        }
    }
    Ok(())
}

/// How specifically `selector` names `rule` (`None`: it does not).
fn specificity(selector: &str, rule: &crate::rules::RuleMeta) -> Option<usize> {
    if selector.eq_ignore_ascii_case("ALL") {
        Some(0)
    } else if RuleId::parse(selector) == Some(rule.id) || selector == rule.name {
        Some(EXACT)
    } else {
        let id = rule.id.to_string();
        let prefix = id.get(..selector.len())?;
        prefix.eq_ignore_ascii_case(selector).then_some(selector.len())
    }
}

/// An error naming the nearest id or name when `selector` selects no rule.
fn check_selector(known: &[crate::rules::RuleMeta], selector: &str) -> Result<(), UnknownSelector> {
    if known.iter().any(|r| specificity(selector, r).is_some()) {
        return Ok(());
    }
    let lower = selector.to_ascii_lowercase();
    let nearest = known
        .iter()
        .flat_map(|r| [r.id.to_string(), r.name.clone()])
        .min_by_key(|c| strsim::levenshtein(&lower, &c.to_ascii_lowercase()));
    Err(UnknownSelector {
        selector: selector.to_string(),
        nearest,
    })
}

/// The `[limits]` section over the defaults: known keys only, each a positive integer
/// (the nesting depth at most [`crate::limits::MAX_NESTING_DEPTH`]).
fn limits(
    raw: &BTreeMap<Spanned<String>, Spanned<i64>>,
    at: &dyn Fn(Option<Range<usize>>, Problem) -> ConfigError,
) -> Result<crate::limits::Limits, ConfigError> {
    use crate::limits::{Limit, Limits, MAX_NESTING_DEPTH};
    let mut out = Limits::default();
    for (key, value) in raw {
        let Some(limit) = Limit::ALL.iter().find(|l| l.key() == key.get_ref()) else {
            let keys: Vec<&str> = Limit::ALL.iter().map(|l| l.key()).collect();
            return Err(at(
                Some(key.span()),
                Problem::UnknownLimit {
                    key: key.get_ref().clone(),
                    expected: keys.join(", "),
                },
            ));
        };
        let n = u64::try_from(*value.get_ref())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| at(Some(value.span()), Problem::NotPositive(limit.key())))?;
        if *limit == Limit::NestingDepth && n > MAX_NESTING_DEPTH as u64 {
            return Err(at(Some(value.span()), Problem::NestingDepth));
        }
        limit.set(&mut out, n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::glob_matches;

    #[test]
    fn overrides_go_over_the_file_and_the_environment_gives_terraform_variables() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let cwd = dir.path();
        let file = "account = \"111111111111\"\nregion = \"eu-west-1\"\nexclude = [\"skip/**\"]\n";
        std::fs::write(cwd.join(FILE_NAME), file).unwrap_or_else(|e| unreachable!("{e}"));
        std::fs::create_dir_all(cwd.join("skip/a")).unwrap_or_else(|e| unreachable!("{e}"));
        std::fs::create_dir_all(cwd.join("mods")).unwrap_or_else(|e| unreachable!("{e}"));
        let over = Overrides {
            paths: vec![PathBuf::from("skip/a"), PathBuf::from("mods")],
            excludes: vec!["mods/tmp/**".to_string()],
            tf_vars: vec![("env".to_string(), "prod".to_string())],
            pins: Pins {
                account: Some("222222222222".to_string()),
                ..Pins::default()
            },
            environment: vec![
                ("TF_VAR_zone".to_string(), "b".to_string()),
                ("HOME".to_string(), "/root".to_string()),
                ("TF_VAR_app".to_string(), "orders".to_string()),
            ],
            ..Overrides::default()
        };
        let (config, warnings) = resolve(&over, cwd).unwrap_or_else(|e| unreachable!("{e}"));
        // The command line's pin wins; the file's stays where the command line sets none.
        assert_eq!(config.pins.account.as_deref(), Some("222222222222"));
        assert_eq!(config.pins.region.as_deref(), Some("eu-west-1"));
        // TF_VAR_* only, sorted by name.
        assert_eq!(
            config.load.tf_env_vars,
            [
                ("app".to_string(), "orders".to_string()),
                ("zone".to_string(), "b".to_string())
            ]
        );
        assert_eq!(config.load.tf_vars, [("env".to_string(), "prod".to_string())]);
        // The file's exclude and the added one, both anchored; a named path they leave out
        // is a warning.
        assert_eq!(config.load.exclude.len(), 2);
        assert_eq!(
            warnings,
            ["skip/a is excluded (config `exclude` or --exclude) and not analysed"]
        );
        assert_eq!(config.paths, over.paths);

        let missing = Overrides {
            paths: vec![PathBuf::from("nowhere")],
            ..Overrides::default()
        };
        assert_eq!(
            resolve(&missing, cwd).map(|_| ()).map_err(|e| e.to_string()),
            Err("no such file or directory: nowhere".to_string())
        );
        let bad_glob = Overrides {
            excludes: vec!["a/[b".to_string()],
            ..Overrides::default()
        };
        let err = resolve(&bad_glob, cwd).map(|_| ()).unwrap_err().to_string();
        assert!(err.starts_with("--exclude \"a/[b\": "), "{err}");
    }

    #[test]
    fn a_full_config_is_read() {
        let c = parse(
            "kdsguard.toml",
            r#"
fail-on = "error"
account = "123456789012"
slr-exists = true
exclude = ["examples/**"]

[rules]
KDS001 = "error"
slr-deletable = "off"

[scps]
full-aws-access = false
apply-to = ["aws_iam_role.*"]

[[guardrail]]
capability = "disable"
tables = "prod-*"
only = ["aws_iam_role.replication_admin"]

[[guardrail]]
capability = "delete-slr"
"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.fail_on, Severity::Error);
        assert_eq!(c.pins.account.as_deref(), Some("123456789012"));
        assert!(c.slr_exists);
        assert_eq!(
            c.rule_levels.get(&RuleId::new(1)),
            Some(&RuleLevel::On(Severity::Error))
        );
        assert_eq!(c.rule_levels.get(&RuleId::new(4)), Some(&RuleLevel::Off));
        assert!(!c.full_aws_access);
        assert_eq!(c.guardrails.len(), 2);
        assert!(c.guardrails[1].only.is_empty());
        assert_eq!(c.guardrails[0].origin, "kdsguard.toml:15");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("k.toml", "[rules]\nKDS999 = \"off\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("k.toml:2:1: unknown rule `KDS999`"), "{e}");
        let e = parse("k.toml", "fail-on = \"sometimes\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("k.toml:1:11:"), "{e}");
        let e = parse("k.toml", "[[guardrail]]\ncapability = \"destroy\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("k.toml:2:14: unknown capability"), "{e}");
        let e = parse("k.toml", "colour = 1\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("k.toml:1:1:"), "{e}");
    }

    #[test]
    fn globs_are_anchored_at_their_folder() {
        let g = anchor_glob(Path::new("/w/infra/"), "examples/**");
        assert_eq!(g, "/w/infra/examples/**");
        assert!(glob_matches(&g, "/w/infra/examples/a.tf"));
        assert!(!glob_matches(&g, "/w/examples/a.tf"));
        assert_eq!(anchor_glob(Path::new("/w/a[1]"), "x"), "/w/a[[]1[]]/x");
        assert_eq!(anchor_glob(Path::new("/w"), "**/gen/**"), "**/gen/**");
    }

    #[test]
    fn limits_are_read_and_checked() {
        let c = parse("k.toml", "[limits]\nfile-bytes = 1024\ninstances = 5\n").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.load.limits.file_bytes, 1024);
        assert_eq!(c.load.limits.instances, 5);
        assert_eq!(c.load.limits.total_bytes, crate::limits::Limits::default().total_bytes);
        let e = parse("k.toml", "[limits]\nfile-size = 1\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("k.toml:2:1: unknown limit `file-size`; expected one of file-bytes,"),
            "{e}"
        );
        let e = parse("k.toml", "[limits]\ninstances = 0\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("k.toml:2:13: limit `instances` must be a positive integer"),
            "{e}"
        );
        let e = parse("k.toml", "[limits]\nnesting-depth = 100000\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("at most 1024"), "{e}");
        let e = parse("k.toml", "[limits]\neval-steps = \"many\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("k.toml:2:"), "{e}");
    }

    fn off(c: &Config) -> Vec<String> {
        c.rule_levels
            .iter()
            .filter(|(_, l)| **l == RuleLevel::Off)
            .map(|(id, _)| id.to_string())
            .collect()
    }

    #[test]
    fn selection_follows_ruff() {
        let c = parse("k.toml", "select = [\"KDS00\"]\nignore = [\"slr-deletable\"]\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let mut on: Vec<String> = crate::rules::catalogue()
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.id.to_string())
            .filter(|id| !off(&c).contains(id))
            .collect();
        on.sort();
        assert_eq!(
            on,
            [
                "KDS001", "KDS002", "KDS003", "KDS005", "KDS006", "KDS007", "KDS008", "KDS009"
            ]
        );
        // A more specific select beats a prefix ignore; at equal specificity ignore wins.
        let mut c = Config::default();
        let layer = Selection {
            select: None,
            ignore: vec!["KDS01".into(), "KDS004".into()],
            extend_select: vec!["KDS012".into(), "KDS004".into()],
        };
        select(&mut c, &layer).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(off(&c).contains(&"KDS004".to_string()) && off(&c).contains(&"KDS011".to_string()));
        assert!(!off(&c).contains(&"KDS012".to_string()) && !off(&c).contains(&"KDS001".to_string()));
        // A later select replaces: a rule turned off before is on again.
        let layer = Selection {
            select: Some(vec!["kds004".into()]),
            ..Selection::default()
        };
        select(&mut c, &layer).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!off(&c).contains(&"KDS004".to_string()) && off(&c).contains(&"KDS012".to_string()));
    }

    #[test]
    fn unknown_selectors_name_the_nearest() {
        let e = parse("k.toml", "ignore = [\"slr-deleteable\"]\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("k.toml:1:11: unknown rule selector `slr-deleteable`; did you mean `slr-deletable`?"),
            "{e}"
        );
        let e = select(
            &mut Config::default(),
            &Selection {
                select: Some(vec!["KDS0004".into()]),
                ..Selection::default()
            },
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("unknown rule selector `KDS0004`; did you mean `KDS004`?"),
            "{e}"
        );
    }
}
