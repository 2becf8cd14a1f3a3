variable "table_arn" {
  type = string
}

resource "aws_iam_role" "reader" {
  name = "replication-reader"
  inline_policy {
    name = "describe"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Effect   = "Allow"
          Action   = "dynamodb:DescribeKinesisStreamingDestination"
          Resource = var.table_arn
        },
        {
          Effect   = "Allow"
          Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary"]
          Resource = "*"
        }
      ]
    })
  }
}
