//! ARNs are built here and nowhere else: `arn:<partition>:<service>:<region>:<account>:<resource>`.
//!
//! Where a template does not say, the partition, region and account are the run's own:
//! symbols that the pins (`--partition`, `--region`, `--account`) replace and that match
//! what any account would hold. Reading an ARN's segments is [`crate::iam::pattern::ArnSplit`]'s
//! (patterns and requests) and [`crate::iam::principal::Caller::parse`]'s (principals).

use crate::value::{Symbol, Template};

/// The partition, region or account segment of an ARN.
#[derive(Clone, Copy, Debug)]
pub enum Segment<'a> {
    /// The run's own: the segment's symbol.
    Run,
    /// Empty: the region of a global service (IAM), the account of an S3 bucket.
    Empty,
    /// Fixed text (`aws` for AWS managed policies).
    Lit(&'a str),
    /// A value the templates give (a replica's region, a caller's account).
    Of(&'a Template),
}

impl Segment<'_> {
    fn push(self, t: &mut Template, run: Symbol) {
        match self {
            Segment::Run => t.push_sym(run),
            Segment::Empty => {}
            Segment::Lit(s) => t.push_str(s),
            Segment::Of(x) => t.push_template(x),
        }
    }
}

/// An ARN's head, up to its resource: `arn:<partition>:<service>:<region>:<account>:`.
pub fn head(partition: Segment, service: &str, region: Segment, account: Segment) -> Template {
    let mut t = Template::lit("arn:");
    partition.push(&mut t, Symbol::Partition);
    t.push_str(":");
    t.push_str(service);
    t.push_str(":");
    region.push(&mut t, Symbol::Region);
    t.push_str(":");
    account.push(&mut t, Symbol::Account);
    t.push_str(":");
    t
}

/// An IAM resource of the run's account: `arn:<partition>:iam::<account>:<kind><name>`,
/// `kind` with its path and trailing slash (`role/`, `user/`, `group/`,
/// `role/aws-service-role/<service>/`).
pub fn iam(kind: &str, name: &Template) -> Template {
    let mut t = head(Segment::Run, "iam", Segment::Empty, Segment::Run);
    t.push_str(kind);
    t.push_template(name);
    t
}

/// An AWS managed policy: `arn:<partition>:iam::aws:policy<path_and_name>`, the path with
/// its slashes (`/AdministratorAccess`, `/service-role/AWSLambdaKinesisExecutionRole`).
pub fn aws_managed_policy(path_and_name: &str) -> Template {
    let mut t = head(Segment::Run, "iam", Segment::Empty, Segment::Lit("aws"));
    t.push_str("policy");
    t.push_str(path_and_name);
    t
}

/// A DynamoDB table of the run's account, in `region` (the run's when `None`).
pub fn table(region: Option<&Template>, name: &Template) -> Template {
    let region = region.map_or(Segment::Run, Segment::Of);
    let mut t = head(Segment::Run, "dynamodb", region, Segment::Run);
    t.push_str("table/");
    t.push_template(name);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(t: &Template) -> String {
        t.to_string()
    }

    #[test]
    fn each_builder_writes_the_six_segments() {
        let name = Template::lit("orders");
        assert_eq!(
            shown(&table(None, &name)),
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders"
        );
        let region = Template::lit("eu-west-1");
        assert_eq!(
            shown(&table(Some(&region), &name)),
            "arn:${AWS::Partition}:dynamodb:eu-west-1:${AWS::AccountId}:table/orders"
        );
        assert_eq!(
            shown(&iam("role/ops/", &Template::lit("app"))),
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops/app"
        );
        assert_eq!(
            shown(&aws_managed_policy("/service-role/X")),
            "arn:${AWS::Partition}:iam::aws:policy/service-role/X"
        );
        assert_eq!(
            shown(&head(Segment::Lit("aws"), "s3", Segment::Empty, Segment::Empty)),
            "arn:aws:s3:::"
        );
    }

    #[test]
    fn built_literals_merge_like_hand_written_ones() {
        // Equal text compares equal whatever pieces it was pushed in.
        let mut by_hand = Template::lit("arn:");
        by_hand.push_sym(Symbol::Partition);
        by_hand.push_str(":iam::aws:policy/ReadOnlyAccess");
        assert_eq!(aws_managed_policy("/ReadOnlyAccess"), by_hand);
    }
}
