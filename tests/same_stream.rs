//! The stream requirements of one capability must hold on one and the same stream
//! (semantics.md, Access entries): on a declared destination, and on "some stream" for a
//! table with no destination and for the undeclared tables.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::*;
use serde_json::Value;

const FIXTURE: &str = "testdata/same_stream/template.yaml";

fn decision(report: &Value, role: &str, capability: &str, table: &str) -> (String, Value) {
    let p = principal_named(report, role);
    let r = if table == "*" {
        "*".to_string()
    } else {
        resource_named(report, table)
    };
    match access(report, &p, capability, &r).as_slice() {
        [a] => (
            a["decision"].as_str().unwrap_or_default().to_string(),
            a["missing"].clone(),
        ),
        other => panic!("{} entries for {role} {capability} {table}", other.len()),
    }
}

#[test]
fn describe_and_enable_need_their_stream_actions_on_one_stream() {
    let (report, _) = check_json(&[FIXTURE]);
    // `split` has kinesis:DescribeStream on orders-stream and DescribeStreamSummary (and
    // PutRecords) on other-stream: no single stream carries both.
    for table in ["Music", "*"] {
        for capability in ["describe", "enable"] {
            let (d, missing) = decision(&report, "split", capability, table);
            assert_eq!(d, "not_allowed", "split {capability} on {table}");
            assert_eq!(
                missing,
                serde_json::json!(["kinesis:DescribeStream"]),
                "split {capability} on {table}"
            );
        }
    }
    // On the declared destination the requirements were always read on its one ARN.
    assert_eq!(
        decision(&report, "split", "describe", "Orders"),
        (
            "not_allowed".to_string(),
            serde_json::json!(["kinesis:DescribeStreamSummary"])
        )
    );
    assert_eq!(
        decision(&report, "split", "enable", "Orders"),
        ("not_allowed".to_string(), serde_json::json!(["kinesis:PutRecords"]))
    );
}

#[test]
fn one_stream_that_carries_every_action_is_enough() {
    let (report, _) = check_json(&[FIXTURE]);
    for table in ["Music", "*"] {
        assert_eq!(decision(&report, "together", "describe", table).0, "allowed");
        assert_eq!(decision(&report, "together", "enable", table).0, "allowed");
        // stream/audit-* and stream/*-log both cover a stream named audit-log.
        assert_eq!(decision(&report, "overlap", "describe", table).0, "allowed");
    }
    // Neither pattern names the declared destination of Orders.
    assert_eq!(decision(&report, "overlap", "describe", "Orders").0, "not_allowed");
}
