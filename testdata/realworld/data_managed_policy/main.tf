# AWS managed policies looked up with the aws_iam_policy data source, by name and by ARN.

data "aws_iam_policy" "dynamodb" {
  name = "AmazonDynamoDBFullAccess"
}

data "aws_iam_policy" "basic" {
  name = "AWSLambdaBasicExecutionRole"
}

data "aws_iam_policy" "admin" {
  arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_role" "by_name" {
  name = "by-name"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "dynamodb" {
  role       = aws_iam_role.by_name.name
  policy_arn = data.aws_iam_policy.dynamodb.arn
}

resource "aws_iam_role_policy_attachment" "basic" {
  role       = aws_iam_role.by_name.name
  policy_arn = data.aws_iam_policy.basic.arn
}

resource "aws_iam_role" "by_arn" {
  name = "by-arn"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.by_arn.name
  policy_arn = data.aws_iam_policy.admin.arn
}

# The document itself, copied into an inline policy.
resource "aws_iam_role" "copied" {
  name = "copied"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy" "copied" {
  name   = "copied"
  role   = aws_iam_role.copied.id
  policy = data.aws_iam_policy.dynamodb.policy
}
