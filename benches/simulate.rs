//! Throughput of `simulate --batch`: 100,000 generated requests through the library's
//! batch path (JSON parse, policy parse, evaluation, JSON answer). Target: under 2 s in
//! release. Run with `cargo bench --bench simulate`.
#![allow(clippy::panic, clippy::print_stdout)] // tests and benches report by panicking and printing

use std::io::Write;
use std::time::Instant;

use kdsguard::simulate::run_batch;

const REQUESTS: usize = 100_000;

const ACTIONS: &[&str] = &[
    "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:DisableKinesisStreamingDestination",
    "dynamodb:DescribeKinesisStreamingDestination",
    "kinesis:PutRecords",
    "kinesis:DescribeStream",
    "iam:DeleteServiceLinkedRole",
];

fn request(i: usize) -> String {
    let action = ACTIONS[i % ACTIONS.len()];
    let table = format!("arn:aws:dynamodb:us-east-1:123456789012:table/t{}", i % 97);
    let resource = if action.starts_with("kinesis") {
        format!("arn:aws:kinesis:us-east-1:123456789012:stream/s{}", i % 13)
    } else {
        table
    };
    let boundary = if i.is_multiple_of(3) {
        r#","boundary":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["dynamodb:*","kinesis:*"],"Resource":"*"}}"#
    } else {
        ""
    };
    let scps = if i.is_multiple_of(5) {
        r#","scps":[[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}},{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:Delete*","Resource":"*"}}]]"#
    } else {
        ""
    };
    format!(
        concat!(
            r#"{{"id":{i},"action":"{action}","resource":"{resource}","context":{{"aws:RequestedRegion":"us-east-1"}},"#,
            r#""policies":[{{"Version":"2012-10-17","Statement":["#,
            r#"{{"Sid":"Repl","Effect":"Allow","Action":["dynamodb:*KinesisStreamingDestination","kinesis:Describe*"],"Resource":["arn:aws:dynamodb:*:*:table/t{m}*","arn:aws:kinesis:*:*:stream/*"],"Condition":{{"StringEquals":{{"aws:RequestedRegion":"us-east-1"}}}}}},"#,
            r#"{{"Effect":"Allow","Action":"kinesis:PutRecords","Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s${{aws:PrincipalTag/n}}"}},"#,
            r#"{{"Effect":"Deny","Action":"dynamodb:Disable*","Resource":"*","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"false"}}}}}}]}}]{boundary}{scps}}}"#
        ),
        i = i,
        action = action,
        resource = resource,
        m = i % 7,
        boundary = boundary,
        scps = scps,
    )
}

fn main() {
    let mut input = String::new();
    for i in 0..REQUESTS {
        input.push_str(&request(i));
        input.push('\n');
    }
    let mut out: Vec<u8> = Vec::with_capacity(REQUESTS * 200);
    let start = Instant::now();
    let result = run_batch(&mut input.as_bytes(), &mut out);
    let elapsed = start.elapsed();
    let answered = out.iter().filter(|b| **b == b'\n').count();
    let per_second = REQUESTS as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "simulate --batch: {REQUESTS} requests ({} MB in) in {:.3} s: {per_second:.0} requests/s; {answered} answers{}",
        input.len() / 1_000_000,
        elapsed.as_secs_f64(),
        if result.is_err() { " (write error)" } else { "" }
    );
}
