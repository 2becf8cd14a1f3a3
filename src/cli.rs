//! Command-line definitions and help text (clap). No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Who can enable, change or disable Kinesis Data Streams replication of your DynamoDB
/// tables, and who can delete the role it runs as, read from Terraform and CloudFormation
/// without deploying anything.
#[derive(Parser, Debug)]
#[command(name = "kdsguard", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  kdsguard check infra/                 analyse a Terraform folder\n  kdsguard check template.yaml --format json\n  kdsguard check . --fail-on error      fail CI only on errors\n\nExit codes: 0 no finding at or above --fail-on; 1 findings; 2 bad usage or an input failed to load."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
        /// Rule id or name.
        rule: String,
    },
    /// List the rules with their id, name and default severity.
    Rules,
    /// Export the resource graph (principals, policies, tables, streams, the SLR).
    Graph(GraphArgs),
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
    pub resource_account: Option<String>,
    /// A condition key known for the request (repeatable; repeat a key for several values).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// A condition key known to be absent from the request (repeatable).
    #[arg(long = "absent", value_name = "KEY")]
    pub absent: Vec<String>,
    /// Keys not given with --context are absent rather than unknown.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Read requests as JSON lines from FILE (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["action", "resource", "policies"])]
    pub batch: Option<PathBuf>,
}

/// What to read and how to resolve it: shared by `check`, `query` and `graph`.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Files or folders to analyse.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Configuration file (default: kdsguard.toml in the current folder or above).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The analysis root (default: the git top level of the first PATH, else that folder).
    /// Files that templates name (file(), module sources, nested stacks) are read only
    /// inside it.
    #[arg(long, value_name = "DIR")]
    pub root: Option<std::path::PathBuf>,

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
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,

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

    /// Print the time each phase took (discover, load, graph, decisions, rules, report) and
    /// the work the decisions did (IAM requests, table classes, pattern matches) to stderr.
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
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Whether one principal can exercise a capability, and why.
    ///
    /// Example: kdsguard query can aws_iam_role.ops disable --on Orders infra/
    Can {
        /// A principal address, IAM name, or input#address id.
        principal: String,
        capability: String,
        #[arg(long, value_name = "TABLE")]
        on: Option<String>,
        #[command(flatten)]
        input: InputArgs,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// The full proof of one decision: principal → attachment → policy → statement → match,
    /// and the Deny, boundary and SCP checks that did not block it.
    ///
    /// Example: kdsguard query why aws_iam_user.alice disable Orders infra/
    Why {
        principal: String,
        capability: String,
        /// A table (address, name or id), `*`, or `slr` for create-slr/delete-slr.
        resource: String,
        #[command(flatten)]
        input: InputArgs,
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

/// Output formats of `check`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Annotated source excerpts, then who can do what.
    Human,
    /// The JSON report (schema kdsguard.report/v1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// A Markdown summary (for $GITHUB_STEP_SUMMARY).
    Markdown,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Annotated source excerpts, then who can do what.
    Human,
    /// The JSON report (schema kdsguard.report/v1).
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
}
