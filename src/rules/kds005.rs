//! KDS005 `slr-lifecycle-unprotected`: the SLR is declared as a managed resource that its
//! own tool would delete.

use crate::finding::{Finding, Resource};
use crate::model::Protection;
use crate::rules::{CheckContext, RuleMeta, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // One finding per declaration: each is a resource its tool can delete.
    let declarations = ctx.graph.slrs.iter().enumerate().flat_map(|(s, node)| {
        let places = node.declarations.iter().enumerate();
        places.map(move |(declaration, d)| (Resource::SlrDeclaration { slr: s, declaration }, d))
    });
    for (resource, slr) in declarations {
        let (span, Protection::Unprotected) = (slr.span, &slr.protection) else {
            continue;
        };
        let input = ctx.graph.inputs.get(slr.input).map(|i| i.kind);
        let how = match input {
            Some(crate::model::InputKind::CloudFormation) => {
                "has no `DeletionPolicy: Retain`: deleting the stack or the resource deletes the role"
            }
            _ => {
                "has no `lifecycle { prevent_destroy = true }`: `terraform destroy` or removing the block deletes the role"
            }
        };
        let mut f = finding(
            meta,
            span,
            format!(
                "the replication service-linked role `{}` {how}, stopping replication for every table in the account",
                slr.address
            ),
            "declared without deletion protection".to_string(),
        );
        f.resource = Some(resource);
        out.push(f);
    }
    out
}
