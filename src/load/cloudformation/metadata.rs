//! kdsguard's own suppressions in CloudFormation `Metadata`, at template or resource level:
//!
//! ```yaml
//! Metadata:
//!   kdsguard:
//!     ignore:
//!       - rule: KDS004          # or rules: [KDS004, KDS005]
//!         reason: break-glass role, reviewed by security
//!         expires: 2027-01-31
//! ```

use crate::model::{Diagnostic, Scope, Suppression};
use crate::value::{Value, ValueKind};

/// Suppressions of the template (`Metadata` at the top) and of each resource.
pub fn suppressions(root: &Value, diagnostics: &mut Vec<Diagnostic>) -> Vec<Suppression> {
    let mut out = Vec::new();
    if let Some(meta) = root.get("Metadata") {
        read(meta, Scope::File(root.span), &mut out, diagnostics);
    }
    for e in root.get("Resources").map(Value::entries).unwrap_or_default() {
        if let Some(meta) = e.value.get("Metadata") {
            read(
                meta,
                Scope::Within(e.key_span.join(e.value.span)),
                &mut out,
                diagnostics,
            );
        }
    }
    out
}

fn read(meta: &Value, scope: Scope, out: &mut Vec<Suppression>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(ignore) = meta.get("kdsguard").and_then(|k| k.get("ignore")) else {
        return;
    };
    let items: Vec<&Value> = match &ignore.kind {
        ValueKind::List(items) => items.iter().collect(),
        _ => vec![ignore],
    };
    for item in items {
        let rules: Vec<String> = match (item.get("rule"), item.get("rules"), item.as_str()) {
            (Some(r), _, _) => r.as_str().map(|s| vec![s.to_string()]).unwrap_or_default(),
            (None, Some(rs), _) => rs
                .as_list()
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            (None, None, Some(s)) => vec![s.to_string()],
            _ => Vec::new(),
        };
        if rules.is_empty() && !matches!(item.kind, ValueKind::Map(_)) {
            diagnostics.push(Diagnostic::warning(
                "a kdsguard ignore entry must be a mapping with `rule` and `reason`",
                item.span,
            ));
            continue;
        }
        out.push(Suppression {
            rules,
            reason: item
                .get("reason")
                .and_then(Value::as_str)
                .map(str::to_string)
                .filter(|r| !r.is_empty()),
            expires: item.get("expires").and_then(Value::as_str).map(str::to_string),
            scope: scope.clone(),
            span: item.span,
        });
    }
}
