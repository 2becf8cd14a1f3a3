# A role whose trust policy cannot be read: it may allow dev (whose own policy allows
# sts:AssumeRole on it) and it may deny, so the step is conditional, never allowed, never dropped.
variable "trust" {}
resource "aws_iam_user" "dev" { name = "dev" }
resource "aws_iam_user_policy" "assume" {
  user   = aws_iam_user.dev.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = aws_iam_role.ops.arn }] })
}
resource "aws_iam_role" "ops" {
  name               = "ops"
  assume_role_policy = var.trust
}
resource "aws_iam_role_policy" "ops" {
  role   = aws_iam_role.ops.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" }] })
}
