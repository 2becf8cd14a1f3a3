resource "aws_iam_role" "platform" {
  name = "platform-admin"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "platform" {
  role = aws_iam_role.platform.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["iam:*"]
        Resource = "*"
      },
      {
        Effect   = "Deny"
        Action   = "iam:DeleteServiceLinkedRole"
        Resource = "arn:aws:iam::*:role/aws-service-role/kinesisreplication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBKinesisDataStreamsReplication"
      },
      {
        # With iam:* the role could delete this policy and its Deny with it: deny that too.
        Effect   = "Deny"
        Action   = "iam:DeleteRolePolicy"
        Resource = "*"
      }
    ]
  })
}
