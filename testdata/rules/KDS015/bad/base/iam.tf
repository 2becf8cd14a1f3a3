# The base: etl may read the replication settings of Orders, nothing more.
resource "aws_iam_role_policy" "etl" {
  role = aws_iam_role.etl.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeKinesisStreamingDestination", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary"]
        Resource = "*"
      }
    ]
  })
}
