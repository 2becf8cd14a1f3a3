# The head: the change also lets etl disable replication on Orders.
resource "aws_iam_role_policy" "etl" {
  role = aws_iam_role.etl.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeKinesisStreamingDestination", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary"]
        Resource = "*"
      },
      { # expect: KDS015
        Effect   = "Allow"
        Action   = "dynamodb:DisableKinesisStreamingDestination"
        Resource = aws_dynamodb_table.orders.arn
      }
    ]
  })
}
