# dev may assume every role, but one of them only with MFA (a conditional Deny names it).
# The roles trust the account: app and batch can disable replication, vault can delete
# the service-linked role.
resource "aws_dynamodb_table" "orders" {
  name     = "Orders"
  hash_key = "id"
}

resource "aws_iam_service_linked_role" "kinesis" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
}

resource "aws_iam_user" "dev" {
  name = "dev"
}

resource "aws_iam_user_policy" "dev" {
  user = aws_iam_user.dev.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "sts:AssumeRole", Resource = "*" },
      {
        Effect    = "Deny"
        Action    = "sts:AssumeRole"
        Resource  = "arn:aws:iam::111122223333:role/vault"
        Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
      },
    ]
  })
}

locals {
  trust_account = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = "arn:aws:iam::111122223333:root" } }]
  })
}

resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = local.trust_account
}

resource "aws_iam_role" "vault" {
  name               = "vault"
  assume_role_policy = local.trust_account
}

resource "aws_iam_role" "batch" {
  name               = "batch"
  assume_role_policy = local.trust_account
}

resource "aws_iam_role_policy" "app" {
  role = aws_iam_role.app.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }]
  })
}

resource "aws_iam_role_policy" "batch" {
  role = aws_iam_role.batch.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }]
  })
}

resource "aws_iam_role_policy" "vault" {
  role = aws_iam_role.vault.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "iam:DeleteServiceLinkedRole", Resource = "*" }]
  })
}
