# A user who reaches `ops` by assuming it; the user also holds a policy that cannot be read
# (it may deny sts:AssumeRole), so the step, and what the user holds through it, is at best
# conditional.
variable "dev_extra" {}

resource "aws_iam_user" "dev" {
  name = "dev"
}

resource "aws_iam_user_policy" "assume" {
  user   = aws_iam_user.dev.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = aws_iam_role.ops.arn }] })
}

resource "aws_iam_user_policy" "extra" {
  user   = aws_iam_user.dev.name
  policy = var.dev_extra
}

resource "aws_iam_role" "ops" {
  name               = "ops"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { AWS = aws_iam_user.dev.arn }, Action = "sts:AssumeRole" }] })
}

resource "aws_iam_role_policy" "ops" {
  role   = aws_iam_role.ops.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }] })
}
