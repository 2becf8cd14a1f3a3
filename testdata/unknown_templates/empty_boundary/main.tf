# terraform-aws-modules/iam v5 and cloudposse's iam-role default their boundary variable
# to "": the provider sets no boundary then.

variable "role_permissions_boundary_arn" {
  type    = string
  default = ""
}

resource "aws_iam_role" "app" {
  name                 = "app"
  permissions_boundary = var.role_permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "app" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "dynamodb:DisableKinesisStreamingDestination"
      Resource = "*"
    }]
  })
}

resource "aws_iam_user" "ops" {
  name                 = "ops"
  permissions_boundary = ""
}

resource "aws_iam_user_policy" "ops" {
  user = aws_iam_user.ops.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "dynamodb:DisableKinesisStreamingDestination"
      Resource = "*"
    }]
  })
}
