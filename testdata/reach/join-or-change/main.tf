# Two users that may both add themselves to the admins group and change their own
# permissions. dev's own change is conditional (MFA), so its join, allowed, is the better
# path; ops's own change is allowed, and holds everything the join would.
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
      { Effect = "Allow", Action = "iam:AddUserToGroup", Resource = aws_iam_group.admins.arn },
      {
        Effect    = "Allow"
        Action    = "iam:PutUserPolicy"
        Resource  = aws_iam_user.dev.arn
        Condition = { Bool = { "aws:MultiFactorAuthPresent" = "true" } }
      },
    ]
  })
}

resource "aws_iam_user" "ops" {
  name = "ops"
}

resource "aws_iam_user_policy" "ops" {
  user = aws_iam_user.ops.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "iam:AddUserToGroup", Resource = aws_iam_group.admins.arn },
      { Effect = "Allow", Action = "iam:PutUserPolicy", Resource = aws_iam_user.ops.arn },
    ]
  })
}

resource "aws_iam_group" "admins" {
  name = "admins"
}

resource "aws_iam_group_policy" "admins" {
  group = aws_iam_group.admins.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }]
  })
}
