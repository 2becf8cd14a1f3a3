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
      # kdsguard:ignore KDS004, KDS003 reason: break-glass admin, reviewed by security expires: 2099-12-31
      {
        Effect   = "Allow"
        Action   = ["iam:*"]
        Resource = "*"
      }
    ]
  })
}

resource "aws_iam_service_linked_role" "kds" { # kdsguard:ignore KDS005 reason: the account's baseline stack owns the role
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
}
