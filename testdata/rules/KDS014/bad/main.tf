# Each suppression below that carries the KDS014 marker has a problem.
resource "aws_iam_role" "platform" {
  name = "platform-admin"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "platform" {
  role = aws_iam_role.platform.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # expect: KDS014 kdsguard:ignore KDS004
      { # expect: KDS014 kdsguard-ignore KDS003 reason: platform admins create service roles
        Effect   = "Allow"
        Action   = ["iam:*"]
        Resource = "*"
      }
    ]
  })
}

# expect: KDS014 kdsguard:ignore KDS005 reason: migrated from another stack expires: 2020-01-01
resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
}

# expect: KDS014 kdsguard:ignore KDS099 reason: a rule that does not exist
# expect: KDS014 kdsguard:ignore enable-incomplete reason: nothing here is granted
resource "aws_dynamodb_table" "music" {
  name         = "Music"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
