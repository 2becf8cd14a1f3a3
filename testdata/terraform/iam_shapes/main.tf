# Every IAM shape of issue 4 reaching a principal, and the expression features that build
# the policies, pinned by tests/terraform.rs through the JSON report.

variable "env" {
  type    = string
  default = "prod"
}

variable "tables" {
  type    = list(string)
  default = ["orders", "music"]
}

locals {
  prefix       = "${var.env}-"
  table_names  = [for t in var.tables : "${local.prefix}${t}"]
  is_prod      = var.env == "prod"
  admin_suffix = local.is_prod ? "admin" : "dev"
  tags         = merge({ team = "data" }, { env = var.env })
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

resource "aws_dynamodb_table" "t" {
  count        = length(local.table_names)
  name         = local.table_names[count.index]
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = local.tags
}

resource "aws_kinesis_stream" "s" {
  for_each    = toset(var.tables)
  name        = format("%s-changes", each.key)
  shard_count = 1
}

resource "aws_dynamodb_kinesis_streaming_destination" "d" {
  for_each   = toset(var.tables)
  table_name = "${local.prefix}${each.key}"
  stream_arn = aws_kinesis_stream.s[each.key].arn
}

# A role with a name prefix, an inline policy block, managed_policy_arns and a boundary.
resource "aws_iam_policy" "boundary" {
  name = "boundary"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["dynamodb:*", "kinesis:*"], Resource = "*" }]
  })
}

resource "aws_iam_role" "bounded" {
  name_prefix          = "bounded-"
  permissions_boundary = aws_iam_policy.boundary.arn
  managed_policy_arns  = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess"]
  assume_role_policy   = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })

  inline_policy {
    name = "read"
    policy = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Action = "dynamodb:DescribeKinesisStreamingDestination", Resource = "*" }]
    })
  }
}

# Users and groups: a group policy, a group attachment, user_group_membership, and the
# multi-target aws_iam_policy_attachment.
resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user" "bob" {
  name = "bob"
}

resource "aws_iam_group" "ops" {
  name = "ops"
}

resource "aws_iam_user_group_membership" "alice" {
  user   = aws_iam_user.alice.name
  groups = [aws_iam_group.ops.name]
}

data "aws_iam_policy_document" "update" {
  dynamic "statement" {
    for_each = local.table_names
    content {
      sid       = "Update${replace(statement.value, "-", "")}"
      actions   = ["dynamodb:UpdateKinesisStreamingDestination"]
      resources = ["arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${statement.value}"]
    }
  }
}

resource "aws_iam_group_policy" "ops" {
  group  = aws_iam_group.ops.name
  policy = data.aws_iam_policy_document.update.json
}

resource "aws_iam_policy" "disable" {
  name = "disable-${local.admin_suffix}"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "dynamodb:DisableKinesisStreamingDestination"
      Resource = aws_dynamodb_table.t[*].arn
    }]
  })
}

resource "aws_iam_policy_attachment" "disable" {
  name       = "disable"
  users      = [aws_iam_user.bob.name]
  groups     = [aws_iam_group.ops.name]
  policy_arn = aws_iam_policy.disable.arn
}

# A user policy attachment naming a user that no input declares: an external user.
resource "aws_iam_user_policy_attachment" "ext" {
  user       = "contractor"
  policy_arn = aws_iam_policy.disable.arn
}

# An SCP that denies deleting the service-linked role, attached to the organisation root.
resource "aws_organizations_policy" "protect" {
  name = "protect-kds-role"
  type = "SERVICE_CONTROL_POLICY"
  content = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Deny", Action = "iam:DeleteServiceLinkedRole", Resource = "*" }]
  })
}

resource "aws_organizations_policy_attachment" "root" {
  policy_id = aws_organizations_policy.protect.id
  target_id = "r-abcd"
}

# A table resource policy that denies disabling replication to everyone but the bounded role.
resource "aws_dynamodb_resource_policy" "orders" {
  resource_arn = aws_dynamodb_table.t[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Deny"
      Principal = "*"
      Action    = "dynamodb:DisableKinesisStreamingDestination"
      Resource  = "*"
      Condition = { StringNotEquals = { "aws:PrincipalArn" = aws_iam_role.bounded.arn } }
    }]
  })
}
