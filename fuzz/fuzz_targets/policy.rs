//! The policy-document parser and the condition evaluator: the input is one policy
//! document, evaluated for a few requests whose context has a value of every condition
//! family (string, number, date, boolean, IP address, ARN), so condition operators over
//! known values, absent keys and unknown keys are all reached.
#![no_main]

use libfuzzer_sys::fuzz_target;

const REQUESTS: &[(&str, &str, &str)] = &[
    (
        "dynamodb:DisableKinesisStreamingDestination",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
        r#"{"aws:SourceIp":"10.1.2.3","aws:CurrentTime":"2026-01-01T00:00:00Z","aws:MultiFactorAuthPresent":"true","aws:MultiFactorAuthAge":"300","aws:PrincipalTag/team":"data","dynamodb:LeadingKeys":["a","b"],"aws:SourceArn":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#,
    ),
    (
        "iam:DeleteServiceLinkedRole",
        "arn:aws:iam::123456789012:role/aws-service-role/kinesisreplication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBKinesisDataStreamsReplication",
        r#"{"iam:AWSServiceName":"kinesisreplication.dynamodb.amazonaws.com"}"#,
    ),
    ("kinesis:PutRecords", "*", "{}"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = std::str::from_utf8(data) else { return };
    if doc.contains('\n') {
        return; // one batch line per request
    }
    for (action, resource, context) in REQUESTS {
        for absent in ["", r#","absent":"strict""#] {
            let line = format!(
                r#"{{"action":"{action}","resource":"{resource}","context":{context}{absent},"policies":[{doc}],"boundary":{doc}}}"#
            );
            let _ = kdsguard::simulate::answer_line(&line, 1);
        }
    }
});
