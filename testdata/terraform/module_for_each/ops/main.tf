variable "table_arns" {}
variable "stream_names" {}

resource "aws_iam_role" "operator" {
  name               = replace(format("%s_%02d", "ops", 1), "_", "-")
  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
}

resource "aws_iam_role_policy" "operate" {
  role = aws_iam_role.operator.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeKinesisStreamingDestination", "dynamodb:DisableKinesisStreamingDestination"]
        Resource = var.table_arns
      },
      {
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStreamSummary", "kinesis:DescribeStream"]
        Resource = formatlist("arn:*:kinesis:*:*:stream/%s", var.stream_names)
      },
    ]
  })
}
