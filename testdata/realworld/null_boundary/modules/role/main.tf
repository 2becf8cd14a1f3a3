variable "name" {
  type = string
}

variable "permissions_boundary" {
  type    = string
  default = null
}

variable "extra_policy_arns" {
  type    = list(string)
  default = null
}

resource "aws_iam_role" "this" {
  name                 = var.name
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
  inline_policy {
    name = "disable"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "dynamodb:DisableKinesisStreamingDestination"
        Resource = "*"
      }]
    })
  }
}

resource "aws_iam_role" "s3" {
  name                 = "${var.name}-s3"
  permissions_boundary = var.permissions_boundary
  managed_policy_arns  = var.extra_policy_arns
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy" "s3" {
  role = aws_iam_role.s3.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:*"
      Resource = "*"
    }]
  })
}
