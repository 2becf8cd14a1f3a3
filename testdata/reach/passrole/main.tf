# deployer may pass roles to compute services: acting as a role that way is not followed.
resource "aws_iam_user" "deployer" {
  name = "deployer"
}

resource "aws_iam_user_policy" "deployer" {
  user = aws_iam_user.deployer.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["iam:PassRole", "iam:CreateAccessKey"], Resource = "*" }]
  })
}
