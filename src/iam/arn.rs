//! ARNs are built and parsed here and nowhere else:
//! `arn:<partition>:<service>:<region>:<account>:<resource>`.
//!
//! Where a template does not say, the partition, region and account are the run's own:
//! symbols that the pins (`--partition`, `--region`, `--account`) replace and that match
//! what any account would hold. [`parse`] reads an ARN's segments back, each a template that
//! is either literal text or holds such symbols and unknown pieces. (Matching a wildcard
//! pattern against an ARN, token by token, is [`crate::iam::pattern::ArnSplit`]'s.)

use crate::value::{Part, Symbol, Template};

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
pub(crate) fn aws_managed_policy(path_and_name: &str) -> Template {
    aws_managed_policy_in(Segment::Run, path_and_name)
}

/// [`aws_managed_policy`] in a given partition (the catalogue names its policies in `aws`).
pub(crate) fn aws_managed_policy_in(partition: Segment, path_and_name: &str) -> Template {
    let mut t = head(partition, "iam", Segment::Empty, Segment::Lit("aws"));
    t.push_str(AWS_MANAGED_POLICY_RESOURCE);
    t.push_str(path_and_name);
    t
}

/// The resource of an AWS managed policy's ARN before its path and name.
const AWS_MANAGED_POLICY_RESOURCE: &str = "policy";

/// An ARN read back into its segments. Each is a template: literal text
/// ([`Template::as_literal`]), or text with symbols (the run's partition, region or
/// account, an unresolved value) whose value the templates do not say. The resource is
/// everything after the fifth `:` and may hold more `:`s.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Parts {
    pub partition: Template,
    pub service: Template,
    pub region: Template,
    pub account: Template,
    pub resource: Template,
}

impl Parts {
    /// The path and name of an AWS managed policy (`/service-role/AWSLambdaKinesisExecutionRole`),
    /// when this is one (`iam`, account `aws`, resource `policy/…`); literal text only.
    pub(crate) fn aws_managed_policy(&self) -> Option<&str> {
        if self.service.as_literal() != Some("iam") || self.account.as_literal() != Some("aws") {
            return None;
        }
        let rest = self.resource.as_literal()?.strip_prefix(AWS_MANAGED_POLICY_RESOURCE)?;
        rest.starts_with('/').then_some(rest)
    }
}

/// The name of the AWS managed policy an ARN names (`AWSLambdaKinesisExecutionRole`), when it
/// names one.
pub(crate) fn aws_managed_policy_name(arn: &Template) -> Option<String> {
    let parts = parse(arn)?;
    parts.aws_managed_policy()?.rsplit('/').next().map(str::to_string)
}

/// Reads an ARN: `None` unless the text is `arn` and five more `:`-separated segments (the
/// last, the resource, keeps any further `:`). Only literal text is split: a symbol or an
/// unresolved piece is taken to hold no `:` and stays within its segment, so
/// `arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/t` parses with an unknown region
/// and account, and a template that is one unresolved value (a whole ARN by reference) does
/// not parse.
pub fn parse(arn: &Template) -> Option<Parts> {
    let segments: [Template; 6] = split(arn, ':', 6).try_into().ok()?;
    let [word, partition, service, region, account, resource] = segments;
    (word.as_literal() == Some("arn")).then_some(Parts {
        partition,
        service,
        region,
        account,
        resource,
    })
}

/// The service segment (the third) of an ARN or of a resource pattern that may stop early
/// (`arn:aws:iam::*`), without checking the rest: `None` with fewer than three segments.
pub(crate) fn service_segment(pattern: &Template) -> Option<Template> {
    split(pattern, ':', 6).into_iter().nth(2)
}

/// Splits a template at `sep` in its literal text into at most `max` pieces (the last
/// keeps the rest); symbols stay inside their piece.
pub fn split(t: &Template, sep: char, max: usize) -> Vec<Template> {
    let mut out = vec![Template::default()];
    for part in t.parts() {
        match part {
            Part::Lit(s) => {
                let mut rest = s.as_str();
                while out.len() < max {
                    let Some(i) = rest.find(sep) else { break };
                    if let Some(last) = out.last_mut() {
                        last.push_str(&rest[..i]);
                    }
                    out.push(Template::default());
                    rest = &rest[i + sep.len_utf8()..];
                }
                if let Some(last) = out.last_mut() {
                    last.push_str(rest);
                }
            }
            Part::Sym(sym) => {
                if let Some(last) = out.last_mut() {
                    last.push_sym(sym.clone());
                }
            }
        }
    }
    out
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
    fn parse_reads_back_what_the_builders_write() {
        let region = Template::lit("eu-west-1");
        let p = parse(&table(Some(&region), &Template::lit("orders"))).expect("a table ARN");
        assert_eq!(p.partition, Template::sym(Symbol::Partition));
        assert_eq!(p.service.as_literal(), Some("dynamodb"));
        assert_eq!(p.region.as_literal(), Some("eu-west-1"));
        assert_eq!(p.account, Template::sym(Symbol::Account));
        assert_eq!(p.resource.as_literal(), Some("table/orders"));
        let p = parse(&iam("role/", &Template::lit("app"))).expect("an IAM ARN");
        assert_eq!(p.region.as_literal(), Some(""));
        assert_eq!(p.aws_managed_policy(), None);
        let p = parse(&aws_managed_policy("/service-role/X")).expect("a managed policy ARN");
        assert_eq!(p.aws_managed_policy(), Some("/service-role/X"));
    }

    #[test]
    fn parse_keeps_the_resource_whole_and_unknown_pieces_in_their_segment() {
        let p = parse(&Template::lit("arn:aws:logs:us-east-1:1:log-group:g:*")).expect("six segments");
        assert_eq!(p.resource.as_literal(), Some("log-group:g:*"));
        let mut t = Template::lit("arn:aws:iam::");
        t.push_template(&Template::opaque(
            "var.account",
            "unknown",
            crate::source::Span::builtin(),
        ));
        t.push_str(":role/eu-");
        t.push_sym(Symbol::Region);
        let p = parse(&t).expect("an unknown account");
        assert!(p.account.as_literal().is_none());
        assert_eq!(p.account.opaques().count(), 1);
        assert!(p.resource.as_literal().is_none());
        assert_eq!(p.resource.to_string(), "role/eu-${AWS::Region}");
        assert_eq!(
            Parts {
                resource: Template::lit("policy/ReadOnlyAccess"),
                ..p.clone()
            }
            .aws_managed_policy(),
            None,
            "account not `aws`"
        );
    }

    #[test]
    fn parse_refuses_what_is_not_an_arn() {
        for text in ["orders", "arn:aws:s3::b", "urn:aws:s3:::b", "", "*"] {
            assert_eq!(parse(&Template::lit(text)), None, "{text}");
        }
        // One unresolved value standing for the whole ARN.
        let whole = Template::opaque("var.arn", "unknown", crate::source::Span::builtin());
        assert_eq!(parse(&whole), None);
        // Not a managed policy: no path after `policy`.
        let p = parse(&Template::lit("arn:aws:iam::aws:policyX")).expect("six segments");
        assert_eq!(p.aws_managed_policy(), None);
    }

    #[test]
    fn the_service_segment_of_a_short_pattern() {
        let service = |t: &str| service_segment(&Template::lit(t)).map(|s| s.to_string());
        assert_eq!(service("arn:aws:iam::*").as_deref(), Some("iam"));
        assert_eq!(service("arn:aws:s3:::b").as_deref(), Some("s3"));
        assert_eq!(service("arn:aws").as_deref(), None);
        assert_eq!(service("*"), None);
    }

    #[test]
    fn split_leaves_symbols_in_their_piece() {
        let mut t = Template::lit("a/");
        t.push_sym(Symbol::Region);
        t.push_str("/b/c");
        let pieces: Vec<String> = split(&t, '/', 3).iter().map(ToString::to_string).collect();
        assert_eq!(pieces, ["a", "${AWS::Region}", "b/c"]);
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
