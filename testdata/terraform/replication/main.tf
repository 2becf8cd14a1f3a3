# A table replicated to a KMS-encrypted stream, the service-linked role kept from
# deletion, and principals that may enable / describe / disable the replication.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  table_arn = "arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${var.table_name}"
}

resource "aws_dynamodb_table" "orders" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_kms_key" "stream" {
  description = "orders stream"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Root"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kinesis_stream" "orders" {
  name            = "${var.table_name}-changes"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream.arn
}

resource "aws_dynamodb_kinesis_streaming_destination" "orders" {
  table_name = aws_dynamodb_table.orders.name
  stream_arn = aws_kinesis_stream.orders.arn
}

resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"

  lifecycle {
    prevent_destroy = true
  }
}

data "aws_iam_policy_document" "replicator" {
  statement {
    sid       = "Replication"
    actions   = ["dynamodb:EnableKinesisStreamingDestination", "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:DisableKinesisStreamingDestination"]
    resources = [aws_dynamodb_table.orders.arn]
  }
  statement {
    sid       = "Stream"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStream"]
    resources = [aws_kinesis_stream.orders.arn]
  }
  statement {
    sid       = "Slr"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "iam:AWSServiceName"
      values   = ["kinesisreplication.dynamodb.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replicator" {
  name               = "replicator"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "replicator" {
  name   = "replicator"
  policy = data.aws_iam_policy_document.replicator.json
}

resource "aws_iam_role_policy_attachment" "replicator" {
  role       = aws_iam_role.replicator.name
  policy_arn = aws_iam_policy.replicator.arn
}

resource "aws_iam_user" "auditor" {
  name = "auditor"
}

resource "aws_iam_user_policy" "auditor" {
  name   = "describe"
  user   = aws_iam_user.auditor.name
  policy = <<-EOF
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": "dynamodb:DescribeKinesisStreamingDestination",
          "Resource": "${local.table_arn}"
        }
      ]
    }
  EOF
}

resource "aws_iam_group" "ops" {
  name = "ops"
}

resource "aws_iam_group_membership" "ops" {
  name  = "ops"
  group = aws_iam_group.ops.name
  users = [aws_iam_user.auditor.name]
}

resource "aws_iam_group_policy_attachment" "ops" {
  group      = aws_iam_group.ops.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
}
