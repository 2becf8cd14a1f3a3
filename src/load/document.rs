//! Policy-document shapes the loaders share: a statement that holds only under a
//! condition the templates leave undecided.

use crate::source::Span;
use crate::value::{Entry, Value, ValueKind};

/// Makes `statement` hold only under an undecided condition: an entry `key` (a name that
/// is no IAM operator, such as CloudFormation's `Fn::If`) whose value is `unknown` is added
/// to its `Condition`, so the policy parser reads an unresolved condition, its grants
/// become `conditional` naming `unknown`, and a Deny in it never counts as certain. A
/// statement whose `Condition` is itself unresolved is left as it is (already undecided).
pub(crate) fn hold_only_if(statement: &mut Value, key: &str, key_span: Span, unknown: Value) {
    let marker = Entry {
        key: key.to_string(),
        key_span,
        value: unknown,
    };
    let ValueKind::Map(fields) = &mut statement.kind else {
        return;
    };
    match fields.iter_mut().rev().find(|f| f.key == "Condition") {
        Some(c) => {
            if let ValueKind::Map(ops) = &mut c.value.kind {
                ops.push(marker);
            }
        }
        None => fields.push(Entry {
            key: "Condition".to_string(),
            key_span,
            value: Value::new(ValueKind::Map(vec![marker]), key_span),
        }),
    }
}
