# a and b trust each other; dev can assume a; b can disable replication.
resource "aws_dynamodb_table" "orders" {
  name     = "Orders"
  hash_key = "id"
}

resource "aws_iam_user" "dev" {
  name = "dev"
}

resource "aws_iam_role" "a" {
  name = "a"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
    Principal = { AWS = [aws_iam_user.dev.arn, "arn:aws:iam::111122223333:role/b"] } }]
  })
}

resource "aws_iam_role" "b" {
  name = "b"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = aws_iam_role.a.arn } }]
  })
}

resource "aws_iam_role_policy" "b" {
  role = aws_iam_role.b.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }]
  })
}
