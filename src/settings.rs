//! What a run is asked to do ([`Config`], with [`RuleLevel`] and [`Guardrail`]): the command
//! line on top of `kdsguard.toml`. Read by the engine, the rules and the pipeline, so it sits
//! just above the loaders; `config.rs` reads the file into it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::catalog::Capabilities;
use crate::load::LoadOptions;
use crate::model::Severity;
use crate::value::Pins;

/// What a run is asked to do: the command line on top of `kdsguard.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    pub paths: Vec<PathBuf>,
    /// The analysis root (`--root`); `None`: the git top level of the first path, else
    /// that path's folder ([`crate::root::analysis_root`]).
    pub root: Option<PathBuf>,
    pub load: LoadOptions,
    pub pins: Pins,
    /// Lowest severity that fails the run.
    pub fail_on: Severity,
    /// Per-rule severity or off, by rule id.
    pub rule_levels: BTreeMap<crate::model::RuleId, RuleLevel>,
    /// Whether the service-linked role already exists in the account.
    pub slr_exists: bool,
    /// Whether access through other principals is followed (`reach = false` turns it off).
    pub reach: bool,
    /// Whether AWS's `FullAWSAccess` is attached at every organisation level.
    pub full_aws_access: bool,
    /// Globs of principal addresses/names that declared SCPs apply to (`None`: all).
    pub scp_apply_to: Option<Vec<String>>,
    /// Access expectations for KDS011.
    pub guardrails: Vec<Guardrail>,
    /// Whether suppressions (comments, template metadata) are honoured.
    pub use_suppressions: bool,
    /// Whether to decide capabilities and run the rules (`graph` needs only the graph).
    pub decide: bool,
    /// Findings in this baseline file are not reported.
    pub baseline: Option<PathBuf>,
    /// The date expiry of suppressions is judged against (`YYYY-MM-DD`); default today (UTC).
    pub today: Option<String>,
    /// Where rule pages live (`docs-url`): a base URL, or a template with `{id}`.
    pub docs_url: Option<String>,
    /// Set from another thread to end the run early, between phases (`kdsguard lsp`, when a
    /// newer change has made the run stale): [`crate::analyze`] then returns
    /// [`InternalError`](crate::error::InternalError) with [`CANCELLED`](crate::error::CANCELLED).
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The capability definitions to decide (in `rules/capabilities.toml`'s format, read with
    /// [`crate::catalog::parse_capabilities`]); `None`: the bundled `rules/capabilities.toml`.
    pub capabilities: Option<std::sync::Arc<Capabilities>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            paths: Vec::new(),
            root: None,
            load: LoadOptions::default(),
            pins: Pins::default(),
            fail_on: Severity::Warning,
            rule_levels: BTreeMap::new(),
            slr_exists: false,
            reach: true,
            full_aws_access: true,
            scp_apply_to: None,
            guardrails: Vec::new(),
            use_suppressions: true,
            decide: true,
            baseline: None,
            today: None,
            docs_url: None,
            cancel: None,
            capabilities: None,
        }
    }
}

/// A rule's configured level.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RuleLevel {
    Off,
    On(Severity),
}

/// "Only these principals may have this capability on these tables" (KDS011).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Guardrail {
    /// An id into the run's catalogue ([`Config::capabilities`]), never an internal probe.
    pub capability: crate::catalog::CapId,
    /// Table-name glob (`None`: every table, and the SLR for SLR capabilities).
    pub tables: Option<String>,
    /// Globs of principal addresses, names or ids allowed; empty: nobody.
    pub only: Vec<String>,
    pub description: Option<String>,
    /// Where the guardrail is declared (`kdsguard.toml:12`).
    pub origin: String,
}
