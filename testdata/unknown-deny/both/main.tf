# Issue 19's smallest input: two documents that cannot be read. Either may hold a Deny,
# so `disable` is at best conditional, naming both.
variable "scp_json" {}

resource "aws_organizations_policy" "scp" {
  name    = "from-elsewhere"
  content = var.scp_json
}

variable "extra" {}

resource "aws_iam_role" "ops" {
  name               = "ops"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }] })
}

resource "aws_iam_role_policy" "ops" {
  role   = aws_iam_role.ops.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }] })
}

resource "aws_iam_role_policy" "extra" {
  role   = aws_iam_role.ops.id
  policy = var.extra
}
