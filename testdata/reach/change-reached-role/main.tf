# dev may assume any role that trusts the account, and may put inline policies on the
# roles named app*: by assuming app, dev can give app (and so itself) anything. batch is
# reached too, but no Allow of dev's lands on it.
resource "aws_dynamodb_table" "orders" {
  name     = "Orders"
  hash_key = "id"
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
      { Effect = "Allow", Action = "iam:PutRolePolicy", Resource = "arn:aws:iam::*:role/app*" },
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

resource "aws_iam_role" "batch" {
  name               = "batch"
  assume_role_policy = local.trust_account
}
