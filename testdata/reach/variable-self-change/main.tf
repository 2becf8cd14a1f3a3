# The classic self-service grant: a user may put policies on itself (`user/${aws:username}`),
# so it holds whatever it grants itself.
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
    Statement = [{ Effect = "Allow", Action = "iam:PutUserPolicy", Resource = "arn:aws:iam::*:user/$${aws:username}" }]
  })
}
