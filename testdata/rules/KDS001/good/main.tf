# Denied enabling is intent, not an incomplete grant: KDS001 stays quiet.
resource "aws_iam_user" "deployer" {
  name = "deployer"
}

data "aws_iam_policy_document" "deployer" {
  statement {
    actions   = ["dynamodb:*"]
    resources = ["*"]
  }
  statement {
    effect    = "Deny"
    actions   = ["dynamodb:EnableKinesisStreamingDestination"]
    resources = ["*"]
  }
}

resource "aws_iam_user_policy" "deployer" {
  user   = aws_iam_user.deployer.name
  policy = data.aws_iam_policy_document.deployer.json
}
