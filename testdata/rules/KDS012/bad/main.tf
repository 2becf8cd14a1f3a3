variable "table_arn" {
  type = string
}

resource "aws_iam_user" "ops" {
  name = "ops"
}

data "aws_iam_policy_document" "ops" {
  statement {
    actions   = ["dynamodb:DisableKinesisStreamingDestination"]
    resources = [var.table_arn] # expect: KDS012
  }
}

resource "aws_iam_user_policy" "ops" {
  user   = aws_iam_user.ops.name
  policy = data.aws_iam_policy_document.ops.json
}
