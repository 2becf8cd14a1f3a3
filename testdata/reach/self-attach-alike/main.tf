# Two roles that may attach policies to themselves. Each keeps a policy with a Deny (it
# cannot remove it) whose statements mean the same as the other's, apart from the role and
# the table they name. After the change their decisions come out alike, but each proof
# must cite the role's own statements, and group the tables by them.
resource "aws_dynamodb_table" "orders" {
  name     = "Orders"
  hash_key = "id"
}

resource "aws_dynamodb_table" "items" {
  name     = "Items"
  hash_key = "id"
}

resource "aws_iam_role" "a" {
  name = "a"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "a" {
  role = aws_iam_role.a.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "iam:AttachRolePolicy", Resource = aws_iam_role.a.arn },
      { Effect = "Allow", Action = "dynamodb:DescribeKinesisStreamingDestination", Resource = aws_dynamodb_table.orders.arn },
      { Effect = "Deny", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" },
    ]
  })
}

resource "aws_iam_role" "b" {
  name = "b"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "b" {
  role = aws_iam_role.b.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "iam:AttachRolePolicy", Resource = aws_iam_role.b.arn },
      { Effect = "Deny", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" },
      { Effect = "Allow", Action = "dynamodb:DescribeKinesisStreamingDestination", Resource = aws_dynamodb_table.items.arn },
    ]
  })
}
