resource "aws_iam_role" "bootstrap" {
  name = "account-bootstrap"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "codebuild.amazonaws.com" } }]
  })
}

data "aws_iam_policy_document" "bootstrap" {
  statement {
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:aws:iam::*:role/aws-service-role/kinesisreplication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBKinesisDataStreamsReplication"]
    condition {
      test     = "StringLike"
      variable = "iam:AWSServiceName"
      values   = ["kinesisreplication.dynamodb.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "bootstrap" {
  role   = aws_iam_role.bootstrap.id
  policy = data.aws_iam_policy_document.bootstrap.json
}
