# A root module after `terraform init`: its registry and git modules are read from the
# folders .terraform/modules/modules.json records (hand-written here).

module "kds" {
  source     = "acme/kds-pipeline/aws"
  version    = "1.2.0"
  table_name = "events"
}

module "audit" {
  source     = "acme/kds-pipeline/aws"
  version    = "1.2.0"
  for_each   = toset(["a", "b"])
  table_name = "audit-${each.key}"
}

# Not installed: the manifest has no entry for it.
module "absent" {
  source = "acme/absent/aws"
}

# Its recorded folder is outside .terraform/modules, so it is not read.
module "escape" {
  source = "git::https://example.com/acme/escape.git"
}

resource "aws_iam_role" "app" {
  name = "app"
  inline_policy {
    name = "replication"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Effect   = "Allow"
          Action   = ["dynamodb:EnableKinesisStreamingDestination", "dynamodb:DescribeKinesisStreamingDestination"]
          Resource = [module.kds.table_arn, module.audit["b"].table_arn]
        },
        {
          Effect   = "Allow"
          Action   = ["kinesis:PutRecords", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary"]
          Resource = [module.kds.stream_arn, module.audit["b"].stream_arn]
        },
        {
          Effect   = "Allow"
          Action   = "kinesis:ListStreams"
          Resource = "*"
        }
      ]
    })
  }
}
