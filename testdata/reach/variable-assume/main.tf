# The user may assume only the role named after it (`${aws:username}-role`): alice-role,
# which may disable replication; bob-role (describe) is out of its reach.
resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user_policy" "alice" {
  user   = aws_iam_user.alice.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = "arn:aws:iam::*:role/$${aws:username}-role" }]
  })
}

resource "aws_iam_role" "bob" {
  name = "bob-role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:root" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "bob" {
  role   = aws_iam_role.bob.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DescribeKinesisStreamingDestination", Resource = "*" }]
  })
}

resource "aws_iam_role" "alice" {
  name = "alice-role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:root" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "alice" {
  role   = aws_iam_role.alice.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }]
  })
}
