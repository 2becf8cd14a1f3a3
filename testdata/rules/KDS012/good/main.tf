variable "table_arn" {
  type    = string
  default = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
}

resource "aws_iam_user" "ops" {
  name = "ops"
}

data "aws_iam_policy_document" "ops" {
  statement {
    actions   = ["dynamodb:DisableKinesisStreamingDestination"]
    resources = [var.table_arn]
  }
}

resource "aws_iam_user_policy" "ops" {
  user   = aws_iam_user.ops.name
  policy = data.aws_iam_policy_document.ops.json
}
