resource "aws_iam_role" "breakglass" {
  name = "break-glass"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = "arn:aws:iam::123456789012:root" } }]
  })
}

resource "aws_iam_role_policy" "breakglass" {
  role = aws_iam_role.breakglass.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # kdsguard:ignore KDS004 reason: break-glass admin, reviewed by security expires: 2027-01-31
      {
        Effect   = "Allow"
        Action   = "iam:*"
        Resource = "*"
      }
    ]
  })
}

# kdsguard:ignore KDS005
resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
}

# kdsguard:ignore KDS001 reason: nothing to suppress here
resource "aws_dynamodb_table" "music" {
  name         = "Music"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
