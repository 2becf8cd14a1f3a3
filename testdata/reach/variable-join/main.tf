# The user may join only the group named after it (`${aws:username}-team`): alice-team,
# which may disable replication; bob-team (describe) is out of its reach.
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
    Statement = [{ Effect = "Allow", Action = "iam:AddUserToGroup", Resource = "arn:aws:iam::*:group/$${aws:username}-team" }]
  })
}

resource "aws_iam_group" "alice" {
  name = "alice-team"
}

resource "aws_iam_group_policy" "alice" {
  group  = aws_iam_group.alice.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }]
  })
}

resource "aws_iam_group" "bob" {
  name = "bob-team"
}

resource "aws_iam_group_policy" "bob" {
  group  = aws_iam_group.bob.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DescribeKinesisStreamingDestination", Resource = "*" }]
  })
}
