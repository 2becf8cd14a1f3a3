//! Synthetic estate generator: a port of `../shared/tools/gen_corpus.py` (formats `tf` and `cfn`).
//!
//! The output must stay byte-identical to the Python tool for the same
//! `--principals/--tables/--files/--seed`, so tests and benchmarks need no Python. That is why
//! this file carries its own copy of CPython's `random.Random` (MT19937 and the 3.11 algorithms
//! of `randint`, `choice`, `sample`) and of the `json.dumps` string escaping: every random draw
//! happens in the same order as in the script, while building the model; rendering draws none.
//! Change the two together or not at all; `tests/estate_generator.rs` compares them.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::Path;

/// Which project to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `providers.tf` + `part_NNN.tf` (the script's `--format tf`).
    Terraform,
    /// `stack_NNN.yaml` (the script's `--format cfn`).
    CloudFormation,
}

/// The script's counts and seed, and the extensions the script does not have (all off by
/// default, and then the output is the script's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Options {
    /// IAM roles and users (N).
    pub principals: usize,
    /// DynamoDB tables, one Kinesis stream each (M).
    pub tables: usize,
    /// Files the resources are spread over (F); 0 is taken as 1, as the script's model does.
    pub files: usize,
    /// The `random.Random` seed (the script takes its absolute value).
    pub seed: u64,
    /// Extension: this many extra roles (`assumable-role-NNNN`) whose trust policy names the
    /// account root and which may disable replication on one table each; every user gets
    /// an inline policy allowing `sts:AssumeRole` on one of them (round robin).
    pub assumable: usize,
    /// Extension: the first this many roles may attach policies to themselves
    /// (`iam:AttachRolePolicy` on their own ARN).
    pub iam_writers: usize,
}

/// Writes the estate into `dir` (created; existing files overwritten).
pub fn write(dir: &Path, format: Format, opts: &Options) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in render(format, opts) {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// The estate as (file name, contents), in the order the script writes them.
pub fn render(format: Format, opts: &Options) -> Vec<(String, String)> {
    let model = Model::build(opts);
    match format {
        Format::Terraform => render_tf(&model),
        Format::CloudFormation => render_cfn(&model),
    }
}

/// Every principal as (Terraform address, CloudFormation logical id), in model order, so a
/// test can map one format's report onto the other's.
pub fn principal_names(opts: &Options) -> Vec<(String, String)> {
    Model::build(opts)
        .principals
        .iter()
        .map(|p| (format!("{}.{}", p.kind.tf_type(), tf_id(&p.name)), cfn_id(&p.name)))
        .collect()
}

// ----------------------------------------------------------------------------
// Constants of the script
// ----------------------------------------------------------------------------

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const PARTITION: &str = "aws";
const VERSION: &str = "2012-10-17";

const KR_SERVICE: &str = "kinesisreplication.dynamodb.amazonaws.com";
const KR_ROLE_NAME: &str = "AWSServiceRoleForDynamoDBKinesisDataStreamsReplication";
const DDB_SLR_SERVICES: [&str; 5] = [
    "replication.dynamodb.amazonaws.com",
    "dax.amazonaws.com",
    "dynamodb.application-autoscaling.amazonaws.com",
    "contributorinsights.dynamodb.amazonaws.com",
    KR_SERVICE,
];
/// (service, supports a custom suffix); the script's `OTHER_SLRS` without the role names,
/// which only its `authdetails` format uses.
const OTHER_SLRS: [(&str, bool); 4] = [
    ("replication.dynamodb.amazonaws.com", false),
    ("dax.amazonaws.com", false),
    ("autoscaling.amazonaws.com", true),
    ("elasticloadbalancing.amazonaws.com", false),
];

const DDB_KINESIS_ACTIONS: [&str; 4] = [
    "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:DescribeKinesisStreamingDestination",
    "dynamodb:DisableKinesisStreamingDestination",
    "dynamodb:UpdateKinesisStreamingDestination",
];
const KINESIS_PRODUCER_ACTIONS: [&str; 4] = [
    "kinesis:PutRecords",
    "kinesis:PutRecord",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
];
const DDB_DATA_ACTIONS: [&str; 6] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];
const WILDCARD_ACTIONS: [&str; 6] = [
    "dynamodb:*",
    "dynamodb:*Kinesis*",
    "dynamodb:*KinesisStreamingDestination",
    "dynamodb:Describe*",
    "kinesis:*",
    "*",
];
const DENY_ACTIONS: [&[&str]; 4] = [
    &["dynamodb:DisableKinesisStreamingDestination"],
    &["dynamodb:Delete*", "dynamodb:DisableKinesisStreamingDestination"],
    &["dynamodb:*KinesisStreamingDestination"],
    &["iam:DeleteServiceLinkedRole"],
];
const SLR_DELETE_ACTIONS: [&str; 2] = ["iam:DeleteServiceLinkedRole", "iam:GetServiceLinkedRoleDeletionStatus"];
const TRUST_SERVICES: [&str; 4] = [
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "ec2.amazonaws.com",
    "states.amazonaws.com",
];
const AWS_MANAGED_ATTACHABLE: [&str; 6] = [
    "AmazonDynamoDBFullAccess",
    "AmazonDynamoDBReadOnlyAccess",
    "AmazonKinesisFullAccess",
    "AmazonKinesisReadOnlyAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
];
/// `rng.choice([0, 1, 1, 2])`: how many inline / customer-managed policies a principal gets.
const POLICY_COUNTS: [usize; 4] = [0, 1, 1, 2];

fn aws_managed_arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

// ----------------------------------------------------------------------------
// CPython's random.Random
// ----------------------------------------------------------------------------

const MT_N: usize = 624;
const MT_M: usize = 397;

/// MT19937 seeded and drawn exactly as CPython's `random.Random` (3.11).
struct PyRandom {
    mt: [u32; MT_N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)`: `init_by_array` over the seed's 32-bit words, least significant
    /// first (`[0]` for 0).
    fn new(seed: u64) -> Self {
        let low = seed as u32;
        let high = (seed >> 32) as u32;
        let key: Vec<u32> = if high == 0 { vec![low] } else { vec![low, high] };
        let mut rng = PyRandom {
            mt: [0; MT_N],
            index: MT_N,
        };
        rng.init_by_array(&key);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.mt[0] = seed;
        for i in 1..MT_N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = MT_N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..MT_N.max(key.len()) {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= MT_N {
                self.mt[0] = self.mt[MT_N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..MT_N - 1 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= MT_N {
                self.mt[0] = self.mt[MT_N - 1];
                i = 1;
            }
        }
        self.mt[0] = 0x8000_0000;
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for k in 0..MT_N {
            let y = (self.mt[k] & UPPER) | (self.mt[(k + 1) % MT_N] & LOWER);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.mt[k] = self.mt[(k + MT_M) % MT_N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= MT_N {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: 53 bits from two words.
    fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for `k <= 64`: whole words, least significant first, the last one
    /// shifted down to what is left.
    fn getrandbits(&mut self, k: u32) -> u64 {
        match k {
            0 => 0,
            1..=32 => u64::from(self.next_u32() >> (32 - k)),
            _ => {
                let low = u64::from(self.next_u32());
                let high = u64::from(self.next_u32() >> (64 - k.min(64)));
                low | (high << 32)
            }
        }
    }

    /// `_randbelow(n)` for `n > 0`: `getrandbits(n.bit_length())` until below `n`.
    fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let bits = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(bits);
            if r < n {
                return r as usize;
            }
        }
    }

    /// `randint(lo, hi)`, both ends included.
    fn randint(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// `choice(seq)` for a non-empty `seq`.
    fn choice<T: Copy>(&mut self, seq: &[T]) -> T {
        seq[self.below(seq.len())]
    }

    /// `sample(population, k)` for `k <= len(population)`, CPython 3.11's algorithm: a pool
    /// list when the population is small next to a k-sized set, else a set of drawn indexes.
    fn sample<T: Clone>(&mut self, population: &[T], k: usize) -> Vec<T> {
        let n = population.len();
        let mut setsize = 21usize;
        if k > 5 {
            let exponent = ((k * 3) as f64).ln() / 4f64.ln();
            setsize += 4usize.pow(exponent.ceil() as u32);
        }
        if n <= setsize {
            let mut pool = population.to_vec();
            (0..k)
                .map(|i| {
                    let j = self.below(n - i);
                    let picked = pool[j].clone();
                    pool[j] = pool[n - i - 1].clone();
                    picked
                })
                .collect()
        } else {
            let mut selected = HashSet::new();
            (0..k)
                .map(|_| {
                    let mut j = self.below(n);
                    while !selected.insert(j) {
                        j = self.below(n);
                    }
                    population[j].clone()
                })
                .collect()
        }
    }
}

// ----------------------------------------------------------------------------
// Model
// ----------------------------------------------------------------------------

/// A resource reference inside a statement, rendered per format.
#[derive(Clone, Debug, PartialEq)]
enum Ref {
    Table(usize),
    TableIndex(usize),
    Stream(usize),
    Lit(String),
}

fn lit(s: &str) -> Vec<Ref> {
    vec![Ref::Lit(s.to_string())]
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug)]
struct Condition {
    op: &'static str,
    var: &'static str,
    values: Vec<String>,
}

impl Condition {
    fn new(op: &'static str, var: &'static str, values: &[&str]) -> Option<Self> {
        Some(Condition {
            op,
            var,
            values: strings(values),
        })
    }
}

/// One statement; every renderer emits its keys in the script's fixed order.
#[derive(Debug, Default)]
struct Statement {
    sid: Option<String>,
    effect: &'static str,
    principal: Option<(&'static str, Vec<String>)>,
    action: Option<Vec<String>>,
    not_action: Option<Vec<String>>,
    resource: Option<Vec<Ref>>,
    not_resource: Option<Vec<Ref>>,
    condition: Option<Condition>,
}

impl Statement {
    fn new(effect: &'static str, action: Vec<String>, resource: Vec<Ref>) -> Self {
        Statement {
            effect,
            action: Some(action),
            resource: Some(resource),
            ..Statement::default()
        }
    }
}

/// A policy document (its `Version` is always 2012-10-17).
#[derive(Debug)]
struct Doc {
    statements: Vec<Statement>,
}

/// How a Terraform policy is written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    Doc,
    JsonEncode,
    Heredoc,
}

#[derive(Debug)]
struct Table {
    file: usize,
    name: String,
    stream: String,
    billing: &'static str,
    range_key: bool,
    pitr: bool,
    sse: bool,
    stream_mode: &'static str,
    shards: usize,
    retention: usize,
    stream_kms: bool,
    precision: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Protect {
    Retain,
    None,
    ExplicitDelete,
}

#[derive(Debug)]
struct Slr {
    j: usize,
    file: usize,
    service: &'static str,
    suffix: Option<String>,
    protect: Protect,
    account: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Role,
    User,
}

impl Kind {
    fn tf_type(self) -> &'static str {
        match self {
            Kind::Role => "aws_iam_role",
            Kind::User => "aws_iam_user",
        }
    }
}

#[derive(Debug)]
struct Inline {
    name: String,
    doc: Doc,
    style: Style,
    cfn_separate: bool,
}

#[derive(Debug)]
struct Principal {
    k: usize,
    kind: Kind,
    file: usize,
    name: String,
    inline: Vec<Inline>,
    managed: Vec<usize>,
    aws_managed: Vec<&'static str>,
    groups: Vec<usize>,
    boundary: Option<usize>,
    trust: Option<Doc>,
    trust_style: Style,
}

#[derive(Debug)]
struct Managed {
    file: usize,
    name: String,
    doc: Doc,
    style: Style,
    boundary: bool,
}

#[derive(Debug)]
struct Group {
    file: usize,
    name: String,
    managed: Vec<usize>,
    aws_managed: Vec<&'static str>,
}

#[derive(Debug)]
struct Model {
    files: usize,
    tables: Vec<Table>,
    slrs: Vec<Slr>,
    n_accounts: usize,
    principals: Vec<Principal>,
    managed: Vec<Managed>,
    groups: Vec<Group>,
}

/// The per-file pools the principals draw their attachments from.
struct Pools {
    managed_by_file: Vec<Vec<usize>>,
    groups_by_file: Vec<Vec<usize>>,
    boundary_by_file: Vec<Option<usize>>,
}

impl Model {
    /// The script's `build_model`, draw for draw.
    fn build(opts: &Options) -> Model {
        let files = opts.files.max(1);
        let mut rng = PyRandom::new(opts.seed);
        let tables = build_tables(&mut rng, opts.tables, files);
        let mut tables_by_file = vec![Vec::new(); files];
        for (i, t) in tables.iter().enumerate() {
            tables_by_file[t.file].push(i);
        }
        let slrs = build_slrs(&mut rng, opts.tables, files);
        let n_accounts = slrs.iter().map(|s| s.account).max().unwrap_or(0) + 1;
        let mut principals = build_principals(&mut rng, opts.principals, files);
        let mut policies = PolicyGen {
            rng,
            n_tables: tables.len(),
            tables_by_file,
        };
        let mut managed = Vec::new();
        let mut groups = Vec::new();
        let pools = policies.pools(&principals, files, &mut managed, &mut groups);
        for p in &mut principals {
            policies.attach(p, &pools);
        }
        // The extensions draw no random numbers, so with them off nothing changes.
        extend(&mut principals, opts, files, tables.len());
        Model {
            files,
            tables,
            slrs,
            n_accounts,
            principals,
            managed,
            groups,
        }
    }
}

/// The generator's extensions ([`Options::assumable`], [`Options::iam_writers`]), added after
/// the script's model so they never change its draws.
fn extend(principals: &mut Vec<Principal>, opts: &Options, files: usize, n_tables: usize) {
    let inline = |name: String, statement: Statement| Inline {
        name,
        doc: Doc {
            statements: vec![statement],
        },
        style: Style::JsonEncode,
        cfn_separate: false,
    };
    let mut writers = 0;
    for p in principals.iter_mut() {
        if p.kind == Kind::Role && writers < opts.iam_writers {
            writers += 1;
            let own = format!("arn:aws:iam::{ACCOUNT}:role/{}", p.name);
            let st = Statement::new("Allow", strings(&["iam:AttachRolePolicy"]), lit(&own));
            p.inline.push(inline(format!("{}-self-attach", p.name), st));
        }
        if p.kind == Kind::User && opts.assumable > 0 {
            let target = format!("arn:aws:iam::{ACCOUNT}:role/assumable-role-{:04}", p.k % opts.assumable);
            let st = Statement::new("Allow", strings(&["sts:AssumeRole"]), lit(&target));
            p.inline.push(inline(format!("{}-assume", p.name), st));
        }
    }
    let base = principals.len();
    for j in 0..opts.assumable {
        let name = format!("assumable-role-{j:04}");
        let table = if n_tables == 0 {
            lit("*")
        } else {
            vec![Ref::Table(j % n_tables)]
        };
        let st = Statement::new(
            "Allow",
            strings(&["dynamodb:DisableKinesisStreamingDestination"]),
            table,
        );
        let trust = Statement {
            effect: "Allow",
            action: Some(strings(&["sts:AssumeRole"])),
            principal: Some(("AWS", vec![format!("arn:aws:iam::{ACCOUNT}:root")])),
            ..Statement::default()
        };
        principals.push(Principal {
            k: base + j,
            kind: Kind::Role,
            file: j % files,
            inline: vec![inline(format!("{name}-disable"), st)],
            name,
            managed: Vec::new(),
            aws_managed: Vec::new(),
            groups: Vec::new(),
            boundary: None,
            trust: Some(Doc {
                statements: vec![trust],
            }),
            trust_style: Style::JsonEncode,
        });
    }
}

fn build_tables(rng: &mut PyRandom, count: usize, files: usize) -> Vec<Table> {
    (0..count)
        .map(|i| Table {
            file: i * files / count.max(1),
            name: format!("tbl-{i:05}"),
            stream: format!("ks-{i:05}"),
            billing: rng.choice(&["PAY_PER_REQUEST", "PROVISIONED"]),
            range_key: rng.random() < 0.5,
            pitr: rng.random() < 0.6,
            sse: rng.random() < 0.5,
            stream_mode: rng.choice(&["ON_DEMAND", "PROVISIONED"]),
            shards: rng.randint(1, 4),
            retention: rng.choice(&[24, 48, 168]),
            stream_kms: rng.random() < 0.5,
            precision: rng.choice(&[None, Some("MILLISECOND"), Some("MICROSECOND")]),
        })
        .collect()
}

fn build_slrs(rng: &mut PyRandom, tables: usize, files: usize) -> Vec<Slr> {
    let n_kr = (tables / 100).max(2);
    let mut slrs: Vec<Slr> = (0..n_kr)
        .map(|j| {
            let protect = if j >= 2 {
                [Protect::Retain, Protect::None, Protect::Retain, Protect::ExplicitDelete][j % 4]
            } else {
                [Protect::Retain, Protect::None][j]
            };
            Slr {
                j,
                file: j % files,
                service: KR_SERVICE,
                suffix: None,
                protect,
                account: j,
            }
        })
        .collect();
    for j in 0..(n_kr / 2).max(1) {
        let (service, custom_suffix) = OTHER_SLRS[j % OTHER_SLRS.len()];
        slrs.push(Slr {
            j: n_kr + j,
            file: (n_kr + j) % files,
            service,
            suffix: custom_suffix.then(|| format!("app{j:03}")),
            protect: rng.choice(&[Protect::Retain, Protect::None]),
            account: j % n_kr,
        });
    }
    slrs
}

fn build_principals(rng: &mut PyRandom, count: usize, files: usize) -> Vec<Principal> {
    (0..count)
        .map(|k| {
            let kind = if rng.random() < 0.7 { Kind::Role } else { Kind::User };
            let name = match kind {
                Kind::Role => format!("app-role-{k:05}"),
                Kind::User => format!("svc-user-{k:05}"),
            };
            Principal {
                k,
                kind,
                file: k * files / count.max(1),
                name,
                inline: Vec::new(),
                managed: Vec::new(),
                aws_managed: Vec::new(),
                groups: Vec::new(),
                boundary: None,
                trust: None,
                trust_style: Style::Doc,
            }
        })
        .collect()
}

/// The script's nested helpers of `build_model` (`res_tables`, `stmt_for`, `policy_doc`, …).
struct PolicyGen {
    rng: PyRandom,
    n_tables: usize,
    tables_by_file: Vec<Vec<usize>>,
}

impl PolicyGen {
    /// Per file with principals: shared managed policies, a boundary, and groups if it has users.
    fn pools(
        &mut self,
        principals: &[Principal],
        files: usize,
        managed: &mut Vec<Managed>,
        groups: &mut Vec<Group>,
    ) -> Pools {
        let mut pools = Pools {
            managed_by_file: vec![Vec::new(); files],
            groups_by_file: vec![Vec::new(); files],
            boundary_by_file: vec![None; files],
        };
        for f in 0..files {
            let in_file = principals.iter().filter(|p| p.file == f);
            let (count, users) = in_file.fold((0, 0), |(c, u), p| (c + 1, u + usize::from(p.kind == Kind::User)));
            if count == 0 {
                continue;
            }
            for j in 0..(count / 10).max(2) {
                let doc = self.policy_doc(f, &format!("Mp{j}"));
                let style = self.style();
                pools.managed_by_file[f].push(managed.len());
                managed.push(Managed {
                    file: f,
                    name: format!("mp-{f:03}-{j:03}"),
                    doc,
                    style,
                    boundary: false,
                });
            }
            let style = self.style();
            pools.boundary_by_file[f] = Some(managed.len());
            managed.push(Managed {
                file: f,
                name: format!("boundary-{f:03}"),
                doc: boundary_doc(),
                style,
                boundary: true,
            });
            let n_groups = if users > 0 { (users / 20).max(1) } else { 0 };
            for j in 0..n_groups {
                let shared = &pools.managed_by_file[f];
                let managed_ids = if self.rng.random() < 0.7 {
                    vec![self.rng.choice(shared)]
                } else {
                    vec![]
                };
                let aws = if self.rng.random() < 0.4 {
                    vec![self.rng.choice(&AWS_MANAGED_ATTACHABLE)]
                } else {
                    vec![]
                };
                pools.groups_by_file[f].push(groups.len());
                groups.push(Group {
                    file: f,
                    name: format!("grp-{f:03}-{j:03}"),
                    managed: managed_ids,
                    aws_managed: aws,
                });
            }
        }
        pools
    }

    /// Trust, inline policies and attachments of one principal.
    fn attach(&mut self, p: &mut Principal, pools: &Pools) {
        let f = p.file;
        if p.kind == Kind::Role {
            p.trust = Some(self.trust_doc());
            p.trust_style = if self.rng.random() < 0.6 {
                Style::Doc
            } else {
                Style::JsonEncode
            };
        }
        for j in 0..self.rng.choice(&POLICY_COUNTS) {
            let doc = self.policy_doc(f, &format!("P{}I{j}", p.k));
            let style = self.style();
            let cfn_separate = self.rng.random() < 0.3;
            p.inline.push(Inline {
                name: format!("{}-inline-{j}", p.name),
                doc,
                style,
                cfn_separate,
            });
        }
        let shared = &pools.managed_by_file[f];
        if !shared.is_empty() {
            let k = shared.len().min(self.rng.choice(&POLICY_COUNTS));
            p.managed = self.rng.sample(shared, k);
        }
        if self.rng.random() < 0.25 {
            p.aws_managed.push(self.rng.choice(&AWS_MANAGED_ATTACHABLE));
        }
        let groups = &pools.groups_by_file[f];
        if p.kind == Kind::User && !groups.is_empty() && self.rng.random() < 0.5 {
            p.groups.push(self.rng.choice(groups));
        }
        if p.inline.is_empty() && p.managed.is_empty() && p.aws_managed.is_empty() && p.groups.is_empty() {
            let doc = self.policy_doc(f, &format!("P{}I0", p.k));
            let style = self.style();
            p.inline.push(Inline {
                name: format!("{}-inline-0", p.name),
                doc,
                style,
                cfn_separate: false,
            });
        }
        if self.rng.random() < 0.05 && pools.boundary_by_file[f].is_some() {
            p.boundary = pools.boundary_by_file[f];
        }
    }

    fn trust_doc(&mut self) -> Doc {
        let assume = strings(&["sts:AssumeRole"]);
        let statement = if self.rng.random() < 0.75 {
            let service = self.rng.choice(&TRUST_SERVICES).to_string();
            Statement {
                effect: "Allow",
                action: Some(assume),
                principal: Some(("Service", vec![service])),
                ..Statement::default()
            }
        } else {
            Statement {
                effect: "Allow",
                action: Some(assume),
                principal: Some(("AWS", vec![format!("arn:aws:iam::{ACCOUNT}:root")])),
                condition: Condition::new("Bool", "aws:MultiFactorAuthPresent", &["true"]),
                ..Statement::default()
            }
        };
        Doc {
            statements: vec![statement],
        }
    }

    fn style(&mut self) -> Style {
        let r = self.rng.random();
        if r < 0.5 {
            Style::Doc
        } else if r < 0.9 {
            Style::JsonEncode
        } else {
            Style::Heredoc
        }
    }

    fn policy_doc(&mut self, f: usize, sid_base: &str) -> Doc {
        let mut statements = Vec::new();
        for n in 0..self.rng.randint(1, 4) {
            statements.extend(self.stmt_for(f, &format!("{sid_base}S{n}")));
        }
        Doc { statements }
    }

    fn stmt_for(&mut self, f: usize, sid_base: &str) -> Vec<Statement> {
        let r = self.rng.random();
        let mut stmts = if r < 0.22 {
            let actions = self.pick_subset(&DDB_KINESIS_ACTIONS, 1, 3);
            let action = self.lower_case_some(actions);
            vec![Statement::new("Allow", action, self.res_tables(f, Ref::Table, 1, 3))]
        } else if r < 0.36 {
            self.producer(f)
        } else if r < 0.50 {
            vec![self.wildcard(f)]
        } else if r < 0.62 {
            vec![self.deny(f)]
        } else if r < 0.70 {
            vec![self.not_action(f)]
        } else if r < 0.80 {
            vec![self.slr_create()]
        } else if r < 0.86 {
            vec![self.slr_delete()]
        } else if r < 0.90 {
            let action = strings(&["dynamodb:*KinesisStreamingDestination"]);
            let not_resource = Some(self.res_tables(f, Ref::Table, 1, 2));
            vec![Statement {
                effect: "Allow",
                action: Some(action),
                not_resource,
                ..Statement::default()
            }]
        } else {
            let action = self.pick_subset(&DDB_DATA_ACTIONS, 1, 4);
            let mut resource = self.res_tables(f, Ref::Table, 1, 3);
            resource.extend(self.res_tables(f, Ref::TableIndex, 1, 1));
            vec![Statement::new("Allow", action, resource)]
        };
        for (n, st) in stmts.iter_mut().enumerate() {
            st.sid = Some(format!("{sid_base}{n}"));
        }
        stmts
    }

    fn producer(&mut self, f: usize) -> Vec<Statement> {
        let actions = self.pick_subset(&KINESIS_PRODUCER_ACTIONS, 1, 4);
        let action = self.lower_case_some(actions);
        let first = Statement::new("Allow", action, self.res_tables(f, Ref::Stream, 1, 3));
        if self.rng.random() < 0.5 {
            vec![
                first,
                Statement::new("Allow", strings(&["kinesis:ListStreams"]), lit("*")),
            ]
        } else {
            vec![first]
        }
    }

    fn wildcard(&mut self, f: usize) -> Statement {
        let action = vec![self.rng.choice(&WILDCARD_ACTIONS).to_string()];
        let resource = match self
            .rng
            .choice(&[Some("*"), Some("arn:aws:dynamodb:*:*:table/*"), None])
        {
            Some(arn) => lit(arn),
            None => self.res_tables(f, Ref::Table, 1, 3),
        };
        Statement::new("Allow", action, resource)
    }

    fn deny(&mut self, f: usize) -> Statement {
        let action = self.rng.choice(&DENY_ACTIONS);
        let star = self.rng.random() < 0.5 || action[0].starts_with("iam:");
        let resource = if star {
            lit("*")
        } else {
            self.res_tables(f, Ref::Table, 1, 3)
        };
        let cr = self.rng.random();
        let condition = if cr < 0.25 {
            Condition::new("StringNotEquals", "aws:PrincipalTag/team", &["platform"])
        } else if cr < 0.4 {
            Condition::new("StringNotEquals", "aws:RequestedRegion", &[REGION])
        } else {
            None
        };
        Statement {
            condition,
            ..Statement::new("Deny", strings(action), resource)
        }
    }

    fn not_action(&mut self, f: usize) -> Statement {
        let v = self.rng.random();
        let (effect, not_action, resource, condition) = if v < 0.45 {
            (
                "Allow",
                strings(&["iam:*", "organizations:*", "account:*"]),
                lit("*"),
                None,
            )
        } else if v < 0.75 {
            let resource = self.res_tables(f, Ref::Table, 1, 3);
            (
                "Allow",
                strings(&["dynamodb:DisableKinesisStreamingDestination"]),
                resource,
                None,
            )
        } else {
            let not_action = strings(&[
                "dynamodb:Describe*",
                "dynamodb:List*",
                "kinesis:Describe*",
                "kinesis:List*",
            ]);
            let condition = Condition::new("StringNotEquals", "aws:RequestedRegion", &[REGION]);
            ("Deny", not_action, lit("*"), condition)
        };
        Statement {
            effect,
            not_action: Some(not_action),
            resource: Some(resource),
            condition,
            ..Statement::default()
        }
    }

    fn slr_create(&mut self) -> Statement {
        let cond = self.rng.random();
        let scoped = format!("arn:aws:iam::*:role/aws-service-role/{KR_SERVICE}/{KR_ROLE_NAME}*");
        let resource = lit(self.rng.choice(&["*", scoped.as_str()]));
        const NAME: &str = "iam:AWSServiceName";
        let condition = if cond < 0.4 {
            Condition::new("StringEquals", NAME, &[KR_SERVICE])
        } else if cond < 0.65 {
            Condition::new("StringEquals", NAME, &DDB_SLR_SERVICES)
        } else if cond < 0.8 {
            Condition::new("StringLike", NAME, &["*.dynamodb.amazonaws.com"])
        } else if cond < 0.9 {
            Condition::new("StringEquals", NAME, &["dax.amazonaws.com"])
        } else {
            None
        };
        Statement {
            condition,
            ..Statement::new("Allow", strings(&["iam:CreateServiceLinkedRole"]), resource)
        }
    }

    fn slr_delete(&mut self) -> Statement {
        let kr_slr = format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/{KR_SERVICE}/{KR_ROLE_NAME}");
        let resource = lit(self
            .rng
            .choice(&[kr_slr.as_str(), "arn:aws:iam::*:role/aws-service-role/*", "*"]));
        let action = self.pick_subset(&SLR_DELETE_ACTIONS, 1, 2);
        Statement::new("Allow", action, resource)
    }

    /// `pick_subset`: between `lo` and `hi` of `items`, in their order.
    fn pick_subset(&mut self, items: &[&str], lo: usize, hi: usize) -> Vec<String> {
        let k = self.rng.randint(lo, hi.min(items.len()));
        let indexes: Vec<usize> = (0..items.len()).collect();
        let mut picked = self.rng.sample(&indexes, k);
        picked.sort_unstable();
        picked.into_iter().map(|i| items[i].to_string()).collect()
    }

    /// `lc`: 5% of the time, the action names in lower case (IAM matches them case-insensitively).
    fn lower_case_some(&mut self, actions: Vec<String>) -> Vec<String> {
        if self.rng.random() >= 0.05 {
            return actions;
        }
        actions
            .iter()
            .map(|a| {
                let mut parts = a.split(':');
                let service = parts.next().unwrap_or_default();
                let name = parts.next().unwrap_or_default();
                format!("{service}:{}", name.to_lowercase())
            })
            .collect()
    }

    /// `res_tables`: 1–3 distinct table references, mostly to tables of the same file.
    fn res_tables(&mut self, f: usize, make: fn(usize) -> Ref, lo: usize, hi: usize) -> Vec<Ref> {
        let mut out: Vec<Ref> = Vec::new();
        for _ in 0..self.rng.randint(lo, hi) {
            let local = &self.tables_by_file[f];
            let i = if !local.is_empty() && self.rng.random() < 0.8 {
                self.rng.choice(local)
            } else if self.n_tables > 0 {
                self.rng.below(self.n_tables)
            } else {
                return lit(&format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*"));
            };
            let reference = make(i);
            if !out.contains(&reference) {
                out.push(reference);
            }
        }
        out
    }
}

fn boundary_doc() -> Doc {
    let allow_all = Statement {
        sid: Some("AllowAll".into()),
        ..Statement::new("Allow", strings(&["*"]), lit("*"))
    };
    let actions = strings(&[
        "dynamodb:DisableKinesisStreamingDestination",
        "iam:DeleteServiceLinkedRole",
    ]);
    let no_disable = Statement {
        sid: Some("NoStreamingDisable".into()),
        ..Statement::new("Deny", actions, lit("*"))
    };
    Doc {
        statements: vec![allow_all, no_disable],
    }
}

// ----------------------------------------------------------------------------
// Values and their three spellings: HCL, JSON (`json.dumps(indent=2)`), YAML
// ----------------------------------------------------------------------------

/// The script's rendering input: Python dicts, lists and scalars, plus its `Raw` (an HCL
/// expression written verbatim) and `Tag` (a YAML short-form intrinsic).
#[derive(Clone, Debug)]
enum Val {
    Raw(String),
    Bool(bool),
    Int(usize),
    Str(String),
    Tag(&'static str, String),
    List(Vec<Val>),
    Map(Vec<(String, Val)>),
}

fn s(text: impl Into<String>) -> Val {
    Val::Str(text.into())
}

fn map(pairs: Vec<(&str, Val)>) -> Val {
    Val::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn str_list(items: &[String]) -> Val {
    Val::List(items.iter().map(|x| s(x.as_str())).collect())
}

/// `json.dumps` of a string: ASCII only, with Python's escapes.
fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn is_container(v: &Val) -> bool {
    matches!(v, Val::List(_) | Val::Map(_))
}

/// Python's `str.ljust` (widths count characters).
fn ljust(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(pad))
}

fn is_ident(key: &str, first: fn(char) -> bool, rest: fn(char) -> bool) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(first) && chars.all(rest)
}

/// `hcl_key`: bare if it matches `^[A-Za-z_][A-Za-z0-9_-]*$`, else a JSON string.
fn hcl_key(key: &str) -> String {
    let first = |c: char| c.is_ascii_alphabetic() || c == '_';
    let rest = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if is_ident(key, first, rest) {
        key.to_string()
    } else {
        json_str(key)
    }
}

/// `y_key`: bare if it matches `^[A-Za-z][A-Za-z0-9]*$`, else a JSON string.
fn y_key(key: &str) -> String {
    if is_ident(key, |c| c.is_ascii_alphabetic(), |c| c.is_ascii_alphanumeric()) {
        key.to_string()
    } else {
        json_str(key)
    }
}

fn scalar(v: &Val) -> String {
    match v {
        Val::Raw(text) => text.clone(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Str(text) => json_str(text),
        Val::Tag(tag @ ("!GetAtt" | "!Ref"), value) => format!("{tag} {value}"),
        Val::Tag(tag, value) => format!("{tag} {}", json_str(value)),
        // Only empty containers reach here in the script (as `json.dumps` of them).
        Val::List(_) => "[]".to_string(),
        Val::Map(_) => "{}".to_string(),
    }
}

/// `hcl_value`.
fn hcl_value(v: &Val, ind: usize) -> String {
    let sp = "  ".repeat(ind);
    match v {
        Val::List(items) if items.iter().all(|x| !is_container(x)) => {
            let inner: Vec<String> = items.iter().map(|x| hcl_value(x, ind)).collect();
            format!("[{}]", inner.join(", "))
        }
        Val::List(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|x| format!("{}{}", "  ".repeat(ind + 1), hcl_value(x, ind + 1)))
                .collect();
            format!("[\n{}\n{sp}]", inner.join(",\n"))
        }
        Val::Map(pairs) if pairs.is_empty() => "{}".to_string(),
        Val::Map(pairs) => {
            let width = pairs.iter().map(|(k, _)| hcl_key(k).chars().count()).max().unwrap_or(0);
            let mut lines = vec!["{".to_string()];
            for (k, x) in pairs {
                lines.push(format!(
                    "{sp}  {} = {}",
                    ljust(&hcl_key(k), width),
                    hcl_value(x, ind + 1)
                ));
            }
            lines.push(format!("{sp}}}"));
            lines.join("\n")
        }
        _ => scalar(v),
    }
}

/// `json.dumps(v, indent=2)`.
fn json_pretty(v: &Val, level: usize, out: &mut String) {
    let close = "  ".repeat(level);
    let open = "  ".repeat(level + 1);
    match v {
        Val::List(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (n, x) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&open);
                json_pretty(x, level + 1, out);
            }
            out.push_str(&format!("\n{close}]"));
        }
        Val::Map(pairs) if !pairs.is_empty() => {
            out.push_str("{\n");
            for (n, (k, x)) in pairs.iter().enumerate() {
                if n > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&format!("{open}{}: ", json_str(k)));
                json_pretty(x, level + 1, out);
            }
            out.push_str(&format!("\n{close}}}"));
        }
        _ => out.push_str(&scalar(v)),
    }
}

/// `y_lines`: block-style YAML, two spaces per level, `- ` items.
fn y_lines(v: &Val, ind: usize) -> Vec<String> {
    let sp = " ".repeat(ind);
    let mut out = Vec::new();
    match v {
        Val::Map(pairs) => {
            for (k, x) in pairs {
                let key = y_key(k);
                match x {
                    Val::List(items) if !items.is_empty() => {
                        out.push(format!("{sp}{key}:"));
                        out.extend(y_lines(x, ind + 2));
                    }
                    Val::Map(entries) if !entries.is_empty() => {
                        out.push(format!("{sp}{key}:"));
                        out.extend(y_lines(x, ind + 2));
                    }
                    _ => out.push(format!("{sp}{key}: {}", scalar(x))),
                }
            }
        }
        Val::List(items) => {
            for x in items {
                match x {
                    Val::Map(entries) if !entries.is_empty() => {
                        let mut sub = y_lines(x, ind + 2);
                        if let Some(first) = sub.first_mut() {
                            *first = format!("{sp}- {}", first.trim_start());
                        }
                        out.extend(sub);
                    }
                    _ => out.push(format!("{sp}- {}", scalar(x))),
                }
            }
        }
        _ => {}
    }
    out
}

/// A policy document as the script's `concrete_doc`-shaped dict: `collapse_actions` and
/// `collapse_resources` turn one-element lists into their element, `reference` renders refs.
fn doc_value(doc: &Doc, collapse_actions: bool, collapse_resources: bool, reference: &dyn Fn(&Ref) -> Val) -> Val {
    let one = |mut items: Vec<Val>, collapse: bool| {
        if collapse && items.len() == 1 {
            items.remove(0)
        } else {
            Val::List(items)
        }
    };
    let actions = |a: &[String]| one(a.iter().map(|x| s(x.as_str())).collect(), collapse_actions);
    let refs = |r: &[Ref]| one(r.iter().map(reference).collect(), collapse_resources);
    let statements = doc
        .statements
        .iter()
        .map(|st| {
            let mut pairs = Vec::new();
            if let Some(sid) = &st.sid {
                pairs.push(("Sid", s(sid.as_str())));
            }
            pairs.push(("Effect", s(st.effect)));
            if let Some((ptype, ids)) = &st.principal {
                pairs.push(("Principal", map(vec![(*ptype, str_list(ids))])));
            }
            if let Some(a) = &st.action {
                pairs.push(("Action", actions(a)));
            }
            if let Some(a) = &st.not_action {
                pairs.push(("NotAction", actions(a)));
            }
            if let Some(r) = &st.resource {
                pairs.push(("Resource", refs(r)));
            }
            if let Some(r) = &st.not_resource {
                pairs.push(("NotResource", refs(r)));
            }
            if let Some(c) = &st.condition {
                pairs.push(("Condition", map(vec![(c.op, map(vec![(c.var, str_list(&c.values))]))])));
            }
            map(pairs)
        })
        .collect();
    map(vec![("Version", s(VERSION)), ("Statement", Val::List(statements))])
}

// ----------------------------------------------------------------------------
// Names
// ----------------------------------------------------------------------------

/// `tf_id`: every character outside `[A-Za-z0-9_]` becomes `_`.
fn tf_id(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect()
}

/// `cfn_id`: the alphanumeric runs, each with its first letter upper-cased, joined.
fn cfn_id(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
            format!("{first}{}", chars.as_str())
        })
        .collect()
}

fn service_prefix(service: &str) -> &str {
    service.split('.').next().unwrap_or(service)
}

fn slr_description(slr: &Slr) -> String {
    format!("SLR for {} (account slot {})", slr.service, slr.account)
}

// ----------------------------------------------------------------------------
// Terraform
// ----------------------------------------------------------------------------

fn tf_ref_expr(m: &Model, reference: &Ref) -> Val {
    match reference {
        Ref::Lit(text) => s(text.as_str()),
        Ref::Table(i) => Val::Raw(format!("aws_dynamodb_table.{}.arn", tf_id(&m.tables[*i].name))),
        Ref::TableIndex(i) => Val::Raw(format!(
            "\"${{aws_dynamodb_table.{}.arn}}/index/*\"",
            tf_id(&m.tables[*i].name)
        )),
        Ref::Stream(i) => Val::Raw(format!("aws_kinesis_stream.{}.arn", tf_id(&m.tables[*i].stream))),
    }
}

/// A reference as a JSON string with `${}` interpolation (for heredocs).
fn tf_ref_interp(m: &Model, reference: &Ref) -> Val {
    match reference {
        Ref::Lit(text) => s(text.as_str()),
        Ref::Table(i) => s(format!("${{aws_dynamodb_table.{}.arn}}", tf_id(&m.tables[*i].name))),
        Ref::TableIndex(i) => s(format!(
            "${{aws_dynamodb_table.{}.arn}}/index/*",
            tf_id(&m.tables[*i].name)
        )),
        Ref::Stream(i) => s(format!("${{aws_kinesis_stream.{}.arn}}", tf_id(&m.tables[*i].stream))),
    }
}

fn tf_block(btype: &str, labels: &[&str], body: &[String]) -> String {
    let labels: String = labels.iter().map(|l| format!(" \"{l}\"")).collect();
    format!("{btype}{labels} {{\n{}\n}}\n", body.join("\n"))
}

fn tf_attrs(pairs: &[(&str, Val)], ind: usize) -> Vec<String> {
    let sp = "  ".repeat(ind);
    let width = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{sp}{} = {}", ljust(k, width), hcl_value(v, ind)))
        .collect()
}

/// A nested block (`  name {` … `  }`) after a blank line, at `ind` levels.
fn tf_nested(name: &str, pairs: &[(&str, Val)], ind: usize) -> Vec<String> {
    let sp = "  ".repeat(ind);
    let mut lines = vec![String::new(), format!("{sp}{name} {{")];
    lines.extend(tf_attrs(pairs, ind + 1));
    lines.push(format!("{sp}}}"));
    lines
}

fn tf_policy_document_ds(m: &Model, name: &str, doc: &Doc) -> String {
    let expr = |r: &Ref| tf_ref_expr(m, r);
    let body: Vec<String> = doc
        .statements
        .iter()
        .map(|st| {
            let mut pairs = Vec::new();
            if let Some(sid) = &st.sid {
                pairs.push(("sid", s(sid.as_str())));
            }
            pairs.push(("effect", s(st.effect)));
            if let Some(a) = &st.action {
                pairs.push(("actions", str_list(a)));
            }
            if let Some(a) = &st.not_action {
                pairs.push(("not_actions", str_list(a)));
            }
            if let Some(r) = &st.resource {
                pairs.push(("resources", Val::List(r.iter().map(expr).collect())));
            }
            if let Some(r) = &st.not_resource {
                pairs.push(("not_resources", Val::List(r.iter().map(expr).collect())));
            }
            let mut lines = vec!["  statement {".to_string()];
            lines.extend(tf_attrs(&pairs, 2));
            if let Some((ptype, ids)) = &st.principal {
                lines.extend(tf_nested(
                    "principals",
                    &[("type", s(*ptype)), ("identifiers", str_list(ids))],
                    2,
                ));
            }
            if let Some(c) = &st.condition {
                let pairs = [
                    ("test", s(c.op)),
                    ("variable", s(c.var)),
                    ("values", str_list(&c.values)),
                ];
                lines.extend(tf_nested("condition", &pairs, 2));
            }
            lines.push("  }".to_string());
            lines.join("\n")
        })
        .collect();
    tf_block("data", &["aws_iam_policy_document", name], &[body.join("\n\n")])
}

fn tf_jsonencode(m: &Model, doc: &Doc) -> Val {
    Val::Raw(format!(
        "jsonencode({})",
        hcl_value(&doc_value(doc, true, true, &|r| tf_ref_expr(m, r)), 1)
    ))
}

fn tf_heredoc(m: &Model, doc: &Doc) -> Val {
    let mut json = String::new();
    json_pretty(&doc_value(doc, false, true, &|r| tf_ref_interp(m, r)), 0, &mut json);
    Val::Raw(format!("<<EOF\n{json}\nEOF"))
}

/// The expression of a `policy = …` attribute; a `doc` style also adds a data block to `extra`.
fn tf_policy_attr(m: &Model, local_name: &str, doc: &Doc, style: Style, extra: &mut Vec<String>) -> Val {
    match style {
        Style::Doc => {
            extra.push(tf_policy_document_ds(m, local_name, doc));
            Val::Raw(format!("data.aws_iam_policy_document.{local_name}.json"))
        }
        Style::JsonEncode => tf_jsonencode(m, doc),
        Style::Heredoc => tf_heredoc(m, doc),
    }
}

fn render_tf(m: &Model) -> Vec<(String, String)> {
    let mut files = vec![Vec::new(); m.files];
    for t in &m.tables {
        files[t.file].extend(tf_table(t));
    }
    for slr in &m.slrs {
        files[slr.file].push(tf_slr(slr));
    }
    for mp in &m.managed {
        let n = tf_id(&mp.name);
        let blocks = &mut files[mp.file];
        let policy = tf_policy_attr(m, &format!("mp_{n}"), &mp.doc, mp.style, blocks);
        let description = if mp.boundary {
            "permission boundary"
        } else {
            "shared policy"
        };
        let pairs = [
            ("name", s(mp.name.as_str())),
            ("path", s("/")),
            ("description", s(description)),
            ("policy", policy),
        ];
        blocks.push(tf_block("resource", &["aws_iam_policy", &n], &tf_attrs(&pairs, 1)));
    }
    for g in &m.groups {
        files[g.file].extend(tf_group(m, g));
    }
    for p in &m.principals {
        files[p.file].extend(tf_principal(m, p));
    }
    let mut out = vec![("providers.tf".to_string(), tf_providers(m))];
    for (f, blocks) in files.iter().enumerate() {
        out.push((format!("part_{f:03}.tf"), blocks.join("\n")));
    }
    out
}

fn tf_providers(m: &Model) -> String {
    let terraform = [
        "  required_version = \">= 1.5.0\"",
        "  required_providers {",
        "    aws = {",
        "      source  = \"hashicorp/aws\"",
        "      version = \">= 5.30\"",
        "    }",
        "  }",
    ];
    let mut blocks = vec![
        tf_block("terraform", &[], &strings(&terraform)),
        tf_block("provider", &["aws"], &tf_attrs(&[("region", s(REGION))], 1)),
    ];
    for a in 1..m.n_accounts {
        let mut body = tf_attrs(&[("alias", s(format!("acct{a:02}"))), ("region", s(REGION))], 1);
        body.extend([
            String::new(),
            "  assume_role {".to_string(),
            format!(
                "    role_arn = \"arn:aws:iam::{:012}:role/terraform-deployer\"",
                100_000_000_000 + a
            ),
            "  }".to_string(),
        ]);
        blocks.push(tf_block("provider", &["aws"], &body));
    }
    blocks.join("\n")
}

/// The table, its stream and its streaming destination.
fn tf_table(t: &Table) -> [String; 3] {
    let (tn, sn) = (tf_id(&t.name), tf_id(&t.stream));
    let mut pairs = vec![
        ("name", s(t.name.as_str())),
        ("billing_mode", s(t.billing)),
        ("hash_key", s("pk")),
    ];
    if t.range_key {
        pairs.push(("range_key", s("sk")));
    }
    if t.billing == "PROVISIONED" {
        pairs.extend([("read_capacity", Val::Int(5)), ("write_capacity", Val::Int(5))]);
    }
    let mut body = tf_attrs(&pairs, 1);
    body.extend(tf_nested("attribute", &[("name", s("pk")), ("type", s("S"))], 1));
    if t.range_key {
        body.extend(tf_nested("attribute", &[("name", s("sk")), ("type", s("S"))], 1));
    }
    body.extend(tf_nested(
        "point_in_time_recovery",
        &[("enabled", Val::Bool(t.pitr))],
        1,
    ));
    if t.sse {
        body.extend(tf_nested("server_side_encryption", &[("enabled", Val::Bool(true))], 1));
    }
    body.extend(strings(&["", "  tags = {", "    team = \"data\"", "  }"]));
    let table = tf_block("resource", &["aws_dynamodb_table", &tn], &body);

    let mut pairs = vec![
        ("name", s(t.stream.as_str())),
        ("retention_period", Val::Int(t.retention)),
    ];
    if t.stream_mode == "PROVISIONED" {
        pairs.push(("shard_count", Val::Int(t.shards)));
    }
    if t.stream_kms {
        pairs.extend([("encryption_type", s("KMS")), ("kms_key_id", s("alias/aws/kinesis"))]);
    }
    let mut body = tf_attrs(&pairs, 1);
    body.extend(tf_nested(
        "stream_mode_details",
        &[("stream_mode", s(t.stream_mode))],
        1,
    ));
    let stream = tf_block("resource", &["aws_kinesis_stream", &sn], &body);

    let mut pairs = vec![
        ("stream_arn", Val::Raw(format!("aws_kinesis_stream.{sn}.arn"))),
        ("table_name", Val::Raw(format!("aws_dynamodb_table.{tn}.name"))),
    ];
    if let Some(precision) = t.precision {
        pairs.push(("approximate_creation_date_time_precision", s(precision)));
    }
    let destination = tf_block(
        "resource",
        &["aws_dynamodb_kinesis_streaming_destination", &tn],
        &tf_attrs(&pairs, 1),
    );
    [table, stream, destination]
}

fn tf_slr(slr: &Slr) -> String {
    let name = format!("slr_{}_{:02}", tf_id(service_prefix(slr.service)), slr.j);
    let mut pairs = vec![
        ("aws_service_name", s(slr.service)),
        ("description", s(slr_description(slr))),
    ];
    if let Some(suffix) = &slr.suffix {
        pairs.push(("custom_suffix", s(suffix.as_str())));
    }
    if slr.account > 0 {
        pairs.push(("provider", Val::Raw(format!("aws.acct{:02}", slr.account))));
    }
    let mut body = tf_attrs(&pairs, 1);
    let prevent_destroy = match slr.protect {
        Protect::Retain => Some("true"),
        Protect::ExplicitDelete => Some("false"),
        Protect::None => None,
    };
    if let Some(value) = prevent_destroy {
        body.extend([
            String::new(),
            "  lifecycle {".to_string(),
            format!("    prevent_destroy = {value}"),
            "  }".to_string(),
        ]);
    }
    tf_block("resource", &["aws_iam_service_linked_role", &name], &body)
}

/// A group and its policy attachments.
fn tf_group(m: &Model, g: &Group) -> Vec<String> {
    let gn = tf_id(&g.name);
    let mut blocks = vec![tf_block(
        "resource",
        &["aws_iam_group", &gn],
        &tf_attrs(&[("name", s(g.name.as_str()))], 1),
    )];
    let group = || Val::Raw(format!("aws_iam_group.{gn}.name"));
    for mid in &g.managed {
        let mn = tf_id(&m.managed[*mid].name);
        let pairs = [
            ("group", group()),
            ("policy_arn", Val::Raw(format!("aws_iam_policy.{mn}.arn"))),
        ];
        blocks.push(tf_block(
            "resource",
            &["aws_iam_group_policy_attachment", &format!("{gn}_{mn}")],
            &tf_attrs(&pairs, 1),
        ));
    }
    for am in &g.aws_managed {
        let pairs = [("group", group()), ("policy_arn", s(aws_managed_arn(am)))];
        let label = format!("{gn}_{}", tf_id(am));
        blocks.push(tf_block(
            "resource",
            &["aws_iam_group_policy_attachment", &label],
            &tf_attrs(&pairs, 1),
        ));
    }
    blocks
}

/// A role or user: its trust document, the principal, inline policies, attachments, groups.
fn tf_principal(m: &Model, p: &Principal) -> Vec<String> {
    let pn = tf_id(&p.name);
    let rtype = p.kind.tf_type();
    let mut blocks = Vec::new();
    let mut pairs = vec![("name", s(p.name.as_str()))];
    if let (Kind::Role, Some(trust)) = (p.kind, &p.trust) {
        let tname = format!("trust_{pn}");
        let expr = if p.trust_style == Style::Doc {
            blocks.push(tf_policy_document_ds(m, &tname, trust));
            Val::Raw(format!("data.aws_iam_policy_document.{tname}.json"))
        } else {
            tf_jsonencode(m, trust)
        };
        pairs.push(("assume_role_policy", expr));
    }
    if let Some(b) = p.boundary {
        pairs.push((
            "permissions_boundary",
            Val::Raw(format!("aws_iam_policy.{}.arn", tf_id(&m.managed[b].name))),
        ));
    }
    let mut body = tf_attrs(&pairs, 1);
    body.extend([
        String::new(),
        "  tags = {".to_string(),
        format!("    owner = \"team-{}\"", p.k % 7),
        "  }".to_string(),
    ]);
    blocks.push(tf_block("resource", &[rtype, &pn], &body));
    for ip in &p.inline {
        let ipn = tf_id(&ip.name);
        let policy = tf_policy_attr(m, &format!("pol_{ipn}"), &ip.doc, ip.style, &mut blocks);
        let (ptype, owner) = match p.kind {
            Kind::Role => (
                "aws_iam_role_policy",
                ("role", Val::Raw(format!("aws_iam_role.{pn}.id"))),
            ),
            Kind::User => (
                "aws_iam_user_policy",
                ("user", Val::Raw(format!("aws_iam_user.{pn}.name"))),
            ),
        };
        let pairs = [("name", s(ip.name.as_str())), owner, ("policy", policy)];
        blocks.push(tf_block("resource", &[ptype, &ipn], &tf_attrs(&pairs, 1)));
    }
    let (atype, akey) = match p.kind {
        Kind::Role => ("aws_iam_role_policy_attachment", "role"),
        Kind::User => ("aws_iam_user_policy_attachment", "user"),
    };
    let owner = || Val::Raw(format!("{rtype}.{pn}.name"));
    for mid in &p.managed {
        let mn = tf_id(&m.managed[*mid].name);
        let pairs = [
            (akey, owner()),
            ("policy_arn", Val::Raw(format!("aws_iam_policy.{mn}.arn"))),
        ];
        blocks.push(tf_block(
            "resource",
            &[atype, &format!("{pn}_{mn}")],
            &tf_attrs(&pairs, 1),
        ));
    }
    for am in &p.aws_managed {
        let pairs = [(akey, owner()), ("policy_arn", s(aws_managed_arn(am)))];
        blocks.push(tf_block(
            "resource",
            &[atype, &format!("{pn}_{}", tf_id(am))],
            &tf_attrs(&pairs, 1),
        ));
    }
    if !p.groups.is_empty() {
        let groups = p
            .groups
            .iter()
            .map(|g| Val::Raw(format!("aws_iam_group.{}.name", tf_id(&m.groups[*g].name))));
        let pairs = [
            ("user", Val::Raw(format!("aws_iam_user.{pn}.name"))),
            ("groups", Val::List(groups.collect())),
        ];
        blocks.push(tf_block(
            "resource",
            &["aws_iam_user_group_membership", &pn],
            &tf_attrs(&pairs, 1),
        ));
    }
    blocks
}

// ----------------------------------------------------------------------------
// CloudFormation (YAML, short-form intrinsics)
// ----------------------------------------------------------------------------

/// A Python dict of resources: insertion order kept, a repeated key replaces the value in place.
#[derive(Clone, Default)]
struct Resources {
    entries: Vec<(String, Val)>,
    index: HashMap<String, usize>,
}

impl Resources {
    fn insert(&mut self, key: String, value: Val) {
        match self.index.get(&key) {
            Some(&at) => self.entries[at].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }
}

fn cfn_ref(m: &Model, reference: &Ref, f: usize) -> Val {
    const ARN: &str = "arn:${AWS::Partition}";
    const AT: &str = "${AWS::Region}:${AWS::AccountId}";
    let table = |i: usize| &m.tables[i];
    match reference {
        Ref::Lit(text) => s(text.as_str()),
        Ref::Table(i) if table(*i).file == f => Val::Tag("!GetAtt", format!("{}.Arn", cfn_id(&table(*i).name))),
        Ref::Table(i) => Val::Tag("!Sub", format!("{ARN}:dynamodb:{AT}:table/{}", table(*i).name)),
        Ref::TableIndex(i) if table(*i).file == f => {
            Val::Tag("!Sub", format!("${{{}.Arn}}/index/*", cfn_id(&table(*i).name)))
        }
        Ref::TableIndex(i) => Val::Tag("!Sub", format!("{ARN}:dynamodb:{AT}:table/{}/index/*", table(*i).name)),
        Ref::Stream(i) if table(*i).file == f => Val::Tag("!GetAtt", format!("{}.Arn", cfn_id(&table(*i).stream))),
        Ref::Stream(i) => Val::Tag("!Sub", format!("{ARN}:kinesis:{AT}:stream/{}", table(*i).stream)),
    }
}

fn cfn_doc(m: &Model, doc: &Doc, f: usize) -> Val {
    doc_value(doc, false, false, &|r| cfn_ref(m, r, f))
}

fn cfn_resource(rtype: &str, props: Vec<(&str, Val)>) -> Val {
    map(vec![("Type", s(rtype)), ("Properties", map(props))])
}

fn cfn_ref_tag(logical_id: String) -> Val {
    Val::Tag("!Ref", logical_id)
}

/// `!Ref`s to customer-managed policies, then AWS managed policy ARNs.
fn cfn_policy_arns(m: &Model, managed: &[usize], aws_managed: &[&str]) -> Vec<Val> {
    let customer = managed.iter().map(|mid| cfn_ref_tag(cfn_id(&m.managed[*mid].name)));
    customer
        .chain(aws_managed.iter().map(|a| s(aws_managed_arn(a))))
        .collect()
}

fn render_cfn(m: &Model) -> Vec<(String, String)> {
    let mut res = vec![Resources::default(); m.files];
    for t in &m.tables {
        cfn_table(t, &mut res[t.file]);
    }
    for slr in &m.slrs {
        cfn_slr(slr, &mut res[slr.file]);
    }
    for mp in &m.managed {
        let description = if mp.boundary {
            "permission boundary"
        } else {
            "shared policy"
        };
        let props = vec![
            ("ManagedPolicyName", s(mp.name.as_str())),
            ("Description", s(description)),
            ("PolicyDocument", cfn_doc(m, &mp.doc, mp.file)),
        ];
        res[mp.file].insert(cfn_id(&mp.name), cfn_resource("AWS::IAM::ManagedPolicy", props));
    }
    for g in &m.groups {
        let mut props = vec![("GroupName", s(g.name.as_str()))];
        let arns = cfn_policy_arns(m, &g.managed, &g.aws_managed);
        if !arns.is_empty() {
            props.push(("ManagedPolicyArns", Val::List(arns)));
        }
        res[g.file].insert(cfn_id(&g.name), cfn_resource("AWS::IAM::Group", props));
    }
    for p in &m.principals {
        cfn_principal(m, p, &mut res[p.file]);
    }
    res.into_iter()
        .enumerate()
        .map(|(f, r)| {
            let resources = if r.entries.is_empty() {
                map(vec![(
                    "Placeholder",
                    map(vec![("Type", s("AWS::CloudFormation::WaitConditionHandle"))]),
                )])
            } else {
                Val::Map(r.entries)
            };
            let template = map(vec![
                ("AWSTemplateFormatVersion", s("2010-09-09")),
                ("Description", s(format!("synthetic corpus part {f:03}"))),
                ("Resources", resources),
            ]);
            (format!("stack_{f:03}.yaml"), y_lines(&template, 0).join("\n") + "\n")
        })
        .collect()
}

/// The stream, then the table with its `KinesisStreamSpecification`.
fn cfn_table(t: &Table, r: &mut Resources) {
    let (tid, sid) = (cfn_id(&t.name), cfn_id(&t.stream));
    let mut sprops = vec![
        ("Name", s(t.stream.as_str())),
        ("RetentionPeriodHours", Val::Int(t.retention)),
        ("StreamModeDetails", map(vec![("StreamMode", s(t.stream_mode))])),
    ];
    if t.stream_mode == "PROVISIONED" {
        sprops.push(("ShardCount", Val::Int(t.shards)));
    }
    if t.stream_kms {
        sprops.push((
            "StreamEncryption",
            map(vec![("EncryptionType", s("KMS")), ("KeyId", s("alias/aws/kinesis"))]),
        ));
    }
    r.insert(sid.clone(), cfn_resource("AWS::Kinesis::Stream", sprops));

    let mut attrs = vec![map(vec![("AttributeName", s("pk")), ("AttributeType", s("S"))])];
    let mut keys = vec![map(vec![("AttributeName", s("pk")), ("KeyType", s("HASH"))])];
    if t.range_key {
        attrs.push(map(vec![("AttributeName", s("sk")), ("AttributeType", s("S"))]));
        keys.push(map(vec![("AttributeName", s("sk")), ("KeyType", s("RANGE"))]));
    }
    let mut props = vec![
        ("TableName", s(t.name.as_str())),
        ("BillingMode", s(t.billing)),
        ("AttributeDefinitions", Val::List(attrs)),
        ("KeySchema", Val::List(keys)),
    ];
    if t.billing == "PROVISIONED" {
        let throughput = map(vec![
            ("ReadCapacityUnits", Val::Int(5)),
            ("WriteCapacityUnits", Val::Int(5)),
        ]);
        props.push(("ProvisionedThroughput", throughput));
    }
    props.push((
        "PointInTimeRecoverySpecification",
        map(vec![("PointInTimeRecoveryEnabled", Val::Bool(t.pitr))]),
    ));
    if t.sse {
        props.push(("SSESpecification", map(vec![("SSEEnabled", Val::Bool(true))])));
    }
    let mut spec = vec![("StreamArn", Val::Tag("!GetAtt", format!("{sid}.Arn")))];
    if let Some(precision) = t.precision {
        spec.push(("ApproximateCreationDateTimePrecision", s(precision)));
    }
    props.push(("KinesisStreamSpecification", map(spec)));
    props.push((
        "Tags",
        Val::List(vec![map(vec![("Key", s("team")), ("Value", s("data"))])]),
    ));
    r.insert(tid, cfn_resource("AWS::DynamoDB::Table", props));
}

fn cfn_slr(slr: &Slr, r: &mut Resources) {
    let lid = format!("Slr{}{:02}", cfn_id(service_prefix(slr.service)), slr.j);
    let mut props = vec![
        ("AWSServiceName", s(slr.service)),
        ("Description", s(slr_description(slr))),
    ];
    if let Some(suffix) = &slr.suffix {
        props.push(("CustomSuffix", s(suffix.as_str())));
    }
    let mut resource = vec![("Type", s("AWS::IAM::ServiceLinkedRole"))];
    match slr.protect {
        Protect::Retain => resource.extend([("DeletionPolicy", s("Retain")), ("UpdateReplacePolicy", s("Retain"))]),
        Protect::ExplicitDelete => resource.push(("DeletionPolicy", s("Delete"))),
        Protect::None => {}
    }
    resource.push(("Properties", map(props)));
    r.insert(lid, map(resource));
}

/// A role or user with its embedded policies, then its separate inline policy resources.
fn cfn_principal(m: &Model, p: &Principal, r: &mut Resources) {
    let f = p.file;
    let pid = cfn_id(&p.name);
    let mut props = Vec::new();
    match (p.kind, &p.trust) {
        (Kind::Role, Some(trust)) => {
            props.push(("RoleName", s(p.name.as_str())));
            props.push(("AssumeRolePolicyDocument", cfn_doc(m, trust, f)));
        }
        (Kind::Role, None) => props.push(("RoleName", s(p.name.as_str()))),
        (Kind::User, _) => props.push(("UserName", s(p.name.as_str()))),
    }
    let embedded: Vec<Val> = p
        .inline
        .iter()
        .filter(|ip| !ip.cfn_separate)
        .map(|ip| {
            map(vec![
                ("PolicyName", s(ip.name.as_str())),
                ("PolicyDocument", cfn_doc(m, &ip.doc, f)),
            ])
        })
        .collect();
    if !embedded.is_empty() {
        props.push(("Policies", Val::List(embedded)));
    }
    let arns = cfn_policy_arns(m, &p.managed, &p.aws_managed);
    if !arns.is_empty() {
        props.push(("ManagedPolicyArns", Val::List(arns)));
    }
    if let Some(b) = p.boundary {
        props.push(("PermissionsBoundary", cfn_ref_tag(cfn_id(&m.managed[b].name))));
    }
    if !p.groups.is_empty() {
        let groups = p.groups.iter().map(|g| cfn_ref_tag(cfn_id(&m.groups[*g].name)));
        props.push(("Groups", Val::List(groups.collect())));
    }
    props.push((
        "Tags",
        Val::List(vec![map(vec![
            ("Key", s("owner")),
            ("Value", s(format!("team-{}", p.k % 7))),
        ])]),
    ));
    let rtype = if p.kind == Kind::Role {
        "AWS::IAM::Role"
    } else {
        "AWS::IAM::User"
    };
    r.insert(pid.clone(), cfn_resource(rtype, props));
    for ip in p.inline.iter().filter(|ip| ip.cfn_separate) {
        let (rtype, owner) = match p.kind {
            Kind::Role => ("AWS::IAM::RolePolicy", ("RoleName", cfn_ref_tag(pid.clone()))),
            Kind::User => ("AWS::IAM::Policy", ("Users", Val::List(vec![cfn_ref_tag(pid.clone())]))),
        };
        let props = vec![
            ("PolicyName", s(ip.name.as_str())),
            owner,
            ("PolicyDocument", cfn_doc(m, &ip.doc, f)),
        ];
        r.insert(cfn_id(&ip.name), cfn_resource(rtype, props));
    }
}
