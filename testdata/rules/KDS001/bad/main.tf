resource "aws_iam_user" "deployer" {
  name = "deployer"
}

data "aws_iam_policy_document" "deployer" {
  statement { # expect: KDS001
    actions   = ["dynamodb:EnableKinesisStreamingDestination", "kinesis:ListStreams"]
    resources = ["*"]
  }
}

resource "aws_iam_user_policy" "deployer" {
  user   = aws_iam_user.deployer.name
  policy = data.aws_iam_policy_document.deployer.json
}
