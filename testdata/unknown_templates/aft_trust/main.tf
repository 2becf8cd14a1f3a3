# Shaped like AWS Control Tower Account Factory for Terraform (modules/aft-iam-roles): the
# admin role's trust policy is a templatefile() whose OIDC statement is rendered only when
# the OIDC provider ARN is not empty, and that ARN has no value here.

variable "oidc_provider_arn" {
  type = string
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "admin" {
  name = "AWSAFTAdmin"
  assume_role_policy = templatefile("${path.module}/trust_policy.tpl", {
    partition         = data.aws_partition.current.partition
    account_id        = data.aws_caller_identity.current.account_id
    oidc_provider_arn = var.oidc_provider_arn
  })
}

resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.admin.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess"
}

# A role of the same account that may assume the admin role (its trust policy delegates to
# the account), and whose own policy grants disable only when the OIDC provider is set.
resource "aws_iam_role" "operator" {
  name = "operator"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "operator" {
  role = aws_iam_role.operator.id
  policy = templatefile("${path.module}/operator_policy.tpl", {
    partition         = data.aws_partition.current.partition
    oidc_provider_arn = var.oidc_provider_arn
  })
}
