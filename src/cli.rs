//! Command-line definitions and help text (clap). No logic lives here.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::format::Format as CheckFormat;

/// Who can enable, change or disable Kinesis Data Streams replication of your DynamoDB
/// tables, and who can delete the role it runs as, read from Terraform and CloudFormation
/// without deploying anything.
#[derive(Parser, Debug)]
#[command(name = "kdsguard", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  kdsguard check infra/                 analyse a Terraform folder\n  kdsguard check template.yaml --format json\n  kdsguard check . --fail-on error      fail CI only on errors\n\nExit codes: 0 no finding at or above --fail-on; 1 findings; 2 bad usage or an input failed to load.\n`query can`: 0 yes, 1 no, 2 errors."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour the output: auto (a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR
    /// or CLICOLOR_FORCE force it), always, or never.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal, following NO_COLOR, FORCE_COLOR, CLICOLOR_FORCE and TERM=dumb.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse templates and report findings and who can do what.
    ///
    /// PATHs are files or folders (default: the current folder). A folder is searched
    /// recursively: each folder with .tf files is a Terraform module, each YAML/JSON file
    /// that is a CloudFormation template is analysed, and each `terraform show -json`
    /// plan is read. .gitignore is honoured; .terraform/ and node_modules/ are skipped.
    Check(CheckArgs),
    /// Evaluate one IAM request offline against given policies (the analyzer's own evaluator).
    ///
    /// Policies are JSON files. The answer is allowed, conditional, denied or not_allowed,
    /// with the statements that decided it. With --batch, reads one JSON request per line
    /// and writes one JSON answer per line, in the same order.
    Simulate(SimulateArgs),
    /// Ask who can do what: who-can, can, why.
    #[command(subcommand)]
    Query(QueryCommand),
    /// Print a rule's documentation (by id or name, e.g. KDS004 or slr-deletable).
    Explain {
        /// Rule id or name, e.g. KDS004 or slr-deletable (`kdsguard rules` lists them).
        rule: String,
    },
    /// List the rules with their id, name, default severity and summary.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
    },
    /// Export the resource graph (principals, policies, tables, streams, the SLR).
    Graph(GraphArgs),
    /// Run as a language server on standard input and output (for editors).
    ///
    /// Speaks the Language Server Protocol: the editor's workspace folders are analysed as
    /// `check` would (kdsguard.toml found the same way, suppressions and baseline
    /// honoured), from the editor's unsaved text. Findings arrive as diagnostics; hover on
    /// a table, a principal or a policy statement says who can do what; code actions insert
    /// a suppression comment; go to definition on a principal lists its granting
    /// statements. Editors start it themselves: see docs/editors.md.
    Lsp {
        /// Accepted for clients that pass it: standard input and output is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print a shell completion script, e.g. `kdsguard completions bash > /etc/bash_completion.d/kdsguard`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Identity policy document (JSON file; repeatable).
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// Permissions boundary document.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// Service control policy (repeatable; each file is one organisation level, root first).
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,
    /// Resource-based policy of the resource (for a kms: action on a key, its key policy:
    /// without one the request is not allowed, as in AWS).
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// Session policy of an assumed-role session.
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
    /// The action, e.g. dynamodb:DisableKinesisStreamingDestination.
    #[arg(long, value_name = "ACTION", required_unless_present = "batch")]
    pub action: Option<String>,
    /// The resource ARN (or *).
    #[arg(long, value_name = "ARN", required_unless_present = "batch")]
    pub resource: Option<String>,
    /// The caller's ARN.
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// The account that owns the resource (default: the resource ARN's, else the caller's).
    #[arg(long = "resource-account", value_name = "ID")]
    pub(crate) resource_account: Option<String>,
    /// A condition key known for the request (repeatable; repeat a key for several values).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// A condition key known to be absent from the request (repeatable).
    #[arg(long = "absent", value_name = "KEY")]
    pub absent: Vec<String>,
    /// Keys not given with --context are absent rather than unknown.
    #[arg(long)]
    pub strict: bool,
    /// Output format: human (the answer with the statements that decided it) or json (one
    /// answer object; with --batch, one per line).
    #[arg(long, value_enum, default_value_t = SimFormat::Human)]
    pub format: SimFormat,
    /// Read requests as JSON lines from FILE (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["action", "resource", "policies"])]
    pub batch: Option<PathBuf>,
}

impl SimulateArgs {
    /// The library's request for these arguments.
    pub fn request(&self) -> crate::simulate::SimulateRequest {
        crate::simulate::SimulateRequest {
            policies: self.policies.clone(),
            boundary: self.boundary.clone(),
            scps: self.scps.clone(),
            resource_policy: self.resource_policy.clone(),
            session_policy: self.session_policy.clone(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            principal: self.principal.clone(),
            resource_account: self.resource_account.clone(),
            context: self.context.clone(),
            absent: self.absent.clone(),
            strict: self.strict,
            output: match self.format {
                SimFormat::Human => crate::simulate::Output::Human,
                SimFormat::Json => crate::simulate::Output::Json,
            },
            batch: self.batch.clone(),
        }
    }
}

/// What to read and how to resolve it: shared by `check`, `query` and `graph`.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Files or folders to analyse (`check -` reads one template from standard input).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Configuration file (default: the kdsguard.toml closest to the analysed path, found
    /// upward from it, else from the current folder upward).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Leave out files and folders matching this glob, relative to the current folder
    /// (repeatable; adds to the config file's `exclude`).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<String>,

    /// Accept paths that contain no template (by default that is an error, exit 2).
    #[arg(long)]
    pub allow_empty: bool,

    /// With `-` as the path: the file name the template on standard input is reported under
    /// (its extension decides the format: .tf, .yaml/.yml or .json).
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,

    /// The account id the templates deploy to (policies naming another account then do not match).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// The region the templates deploy to.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The partition the templates deploy to (aws, aws-cn, aws-us-gov).
    #[arg(long, value_name = "PARTITION")]
    pub partition: Option<String>,

    /// Set a Terraform variable (repeatable), as `terraform -var`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read Terraform variables from a .tfvars file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// Set a CloudFormation parameter (repeatable).
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,

    /// Read CloudFormation parameters from a file (`[{"ParameterKey","ParameterValue"}]` or `{"Parameters": {...}}`).
    #[arg(long = "parameter-file", value_name = "FILE")]
    pub parameter_files: Vec<PathBuf>,

    /// The folder stable identities (baseline keys, SARIF fingerprints) are relative to
    /// (default: the git top level of the first PATH, else that folder).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format (of standard output, or of the file -o names).
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,

    /// Write the report in --format to FILE instead of standard output (overwritten).
    #[arg(long = "output-file", short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// Report only findings of this severity or above, in every format and every --output
    /// file (the exit code still counts all).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub severity: Option<ShownSeverity>,

    /// Human format: print only error findings (one line each), load errors and the summary line.
    #[arg(long, short, conflicts_with = "statistics")]
    pub quiet: bool,

    /// Print only the number of findings per rule and the summary line. Honoured by the
    /// human and concise formats; refused (exit 2, before the analysis) with any other
    /// --format, whose readers expect the findings themselves.
    #[arg(long)]
    pub statistics: bool,

    /// Rules to run: ids, names or id prefixes (`KDS004`, `slr-deletable`, `KDS00`), or
    /// ALL; comma-separated or repeated. Starts the selection afresh: the config file's `select`
    /// and `ignore` no longer apply (as in ruff).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Option<Vec<String>>,

    /// Rules to leave out (ids, names or prefixes), on top of the selection. Where a rule
    /// is both selected and ignored, the more specific selector wins (ignore on a tie).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Rules to run in addition to the selection (ids, names or prefixes).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub(crate) extend_select: Vec<String>,

    /// Human format: print the full access section (every table set, one line each, with
    /// its principals) instead of the summary.
    #[arg(long)]
    pub access: bool,

    /// Also write the report in this format to a file: FORMAT=FILE (repeatable), e.g.
    /// `--output sarif=kdsguard.sarif --output markdown=$GITHUB_STEP_SUMMARY`.
    #[arg(long = "output", value_name = "FORMAT=FILE")]
    pub outputs: Vec<String>,

    /// Lowest finding severity that makes the exit code 1 (default: from the config, else warning).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Ignore every suppression (inline comments and template metadata), for audits.
    #[arg(long)]
    pub no_suppressions: bool,

    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write the current findings to this baseline file (and exit 0 unless an input failed to load).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// List every note about the templates (unsupported constructs, unresolved values).
    #[arg(long, short)]
    pub verbose: bool,

    /// Report only what the change since this git revision adds (PR mode): access it adds
    /// or widens, and findings new at head; removed access is listed as information. The
    /// exit code follows the new findings alone.
    #[arg(long, value_name = "REF")]
    pub diff_base: Option<String>,

    /// The PATHs are changed files (pre-commit): analyse the folders that hold them. Files
    /// that are not templates (package.json, a workflow) are skipped; when none is left the
    /// run exits 0.
    #[arg(long)]
    pub changed_files: bool,

    /// Where rule pages are linked from in SARIF and Markdown: a base URL (`/KDS001.md` is
    /// appended) or a template with `{id}` (default: the `docs-url` config key).
    #[arg(long, value_name = "URL")]
    pub docs_url: Option<String>,

    /// Exit 0 even when there are findings (load errors still exit 2).
    #[arg(long, visible_alias = "soft-fail")]
    pub exit_zero: bool,

    /// Print the time each phase took (discover, load, graph, decisions, reach, SLR status,
    /// rules, report; then reach's parts: reach: assume-role steps, reach: permission-change
    /// steps, reach: changed principals, reach: indirect entries, reach: proofs of the steps
    /// shown) and the work done (IAM requests, table classes, pattern-index matches, the
    /// access and indirect entries the report holds, and reach's steps, hub edges and
    /// changed principals) to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Subcommand, Debug)]
pub enum QueryCommand {
    /// Who can exercise a capability, on which tables, and through which statements.
    ///
    /// Example: kdsguard query who-can disable --on Orders infra/
    WhoCan {
        /// enable, describe, disable, update, create-slr or delete-slr.
        capability: String,
        /// A table address, table name, input#address id, or `*`; default: every table.
        #[arg(long, value_name = "TABLE")]
        on: Option<String>,
        #[command(flatten)]
        input: InputArgs,
        /// Output format: human (one line per principal and table set) or json.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Whether one principal can exercise a capability, and why.
    ///
    /// Exit status: 0 when the answer is yes (allowed, or conditional, on at least one
    /// table asked about, directly or through other principals), 1 when it is no, 2 on
    /// errors (bad usage, an unknown principal or table, an input that failed to load), so
    /// a script can test it.
    ///
    /// Example: kdsguard query can aws_iam_role.ops disable --on Orders infra/
    Can {
        /// A principal address, IAM name, or input#address id.
        principal: String,
        /// enable, describe, disable, update, create-slr or delete-slr.
        capability: String,
        /// A table address, table name, input#address id, or `*`; default: every table.
        #[arg(long, value_name = "TABLE")]
        on: Option<String>,
        #[command(flatten)]
        input: InputArgs,
        /// Output format: human (the decision per table set, and why) or json.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// The full proof of one decision: principal → attachment → policy → statement → match,
    /// and the Deny, boundary and SCP checks that did not block it.
    ///
    /// Example: kdsguard query why aws_iam_user.alice disable Orders infra/
    Why {
        /// A principal address, IAM name, or input#address id.
        principal: String,
        /// enable, describe, disable, update, create-slr or delete-slr.
        capability: String,
        /// A table (address, name or id), `*`, or `slr` for create-slr/delete-slr.
        resource: String,
        #[command(flatten)]
        input: InputArgs,
        /// Output format: human (the proof, step by step) or json.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Export format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz.
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
    /// Nodes and edges as JSON.
    Json,
}

impl GraphFormat {
    /// The library's export format.
    pub fn format(self) -> crate::report::graph::Format {
        match self {
            GraphFormat::Dot => crate::report::graph::Format::Dot,
            GraphFormat::Mermaid => crate::report::graph::Format::Mermaid,
            GraphFormat::Json => crate::report::graph::Format::Json,
        }
    }
}

impl CheckArgs {
    /// The command line's layer of rule selection (over the config file's).
    pub fn selection(&self) -> crate::config::Selection {
        crate::config::Selection {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            extend_select: self.extend_select.clone(),
        }
    }
}

impl QueryCommand {
    /// The library's question for this command.
    pub fn question(&self) -> crate::query::Question<'_> {
        use crate::query::{Ask, Question};
        match self {
            QueryCommand::WhoCan { capability, on, .. } => Question {
                ask: Ask::WhoCan,
                principal: None,
                capability,
                on: on.as_deref(),
            },
            QueryCommand::Can {
                principal,
                capability,
                on,
                ..
            } => Question {
                ask: Ask::Can,
                principal: Some(principal),
                capability,
                on: on.as_deref(),
            },
            QueryCommand::Why {
                principal,
                capability,
                resource,
                ..
            } => Question {
                ask: Ask::Why,
                principal: Some(principal),
                capability,
                on: Some(resource),
            },
        }
    }
}

/// `check`'s output formats are the library's registry ([`crate::report::format::Format`]:
/// names and order); their help is here.
impl ValueEnum for CheckFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &CheckFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            CheckFormat::Human => "Annotated source excerpts, then who can do what",
            CheckFormat::Json => "The JSON report (schema kdsguard.report/v2)",
            CheckFormat::Sarif => "SARIF 2.1.0, for GitHub code scanning and other SARIF viewers",
            CheckFormat::Github => "GitHub Actions workflow commands: annotations on the pull request",
            CheckFormat::Markdown => "A Markdown summary (for $GITHUB_STEP_SUMMARY)",
            CheckFormat::Junit => "JUnit XML: a test case per (rule, input, resource), failures for findings",
            CheckFormat::Concise => "One line per finding: `file:line:col: KDS004 error: message`",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

/// Output formats of `simulate`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    /// The decision in words, with the statements that decided it.
    Human,
    /// The decision as a JSON object (one per line with --batch).
    Json,
}

/// Output formats of `query`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The answer in words, one line per principal or step.
    Human,
    /// The answer as one JSON object: the question, then each decision with its proof
    /// (ids, paths and steps as in kdsguard.report/v2).
    Json,
}

/// Output formats of `rules`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule: id, name, default severity, summary.
    Human,
    /// A JSON array with one object per rule: id, name, severity, summary, help, and the
    /// page it is documented on (docs_url, when known).
    Json,
}

/// `--severity`: the lowest severity shown.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShownSeverity {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Every finding.
    Note,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Every finding.
    Note,
    /// Findings never fail the run (load errors still exit 2).
    None,
}
