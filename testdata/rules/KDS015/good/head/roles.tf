# The head moves the same grant to another file and adds a statement about another
# service: no replication access is added.
resource "aws_iam_role_policy" "etl" {
  role = aws_iam_role.etl.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "*"
      },
      {
        Effect   = "Allow"
        Action   = "dynamodb:DisableKinesisStreamingDestination"
        Resource = aws_dynamodb_table.orders.arn
      }
    ]
  })
}
