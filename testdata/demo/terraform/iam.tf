data "aws_iam_policy_document" "assume_from_account" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:root"]
    }
  }
}

# Example 1: may enable replication on Music and create the service-linked role.
resource "aws_iam_role" "enable_music" {
  name               = "kds-enable-music"
  assume_role_policy = data.aws_iam_policy_document.assume_from_account.json
}

resource "aws_iam_role_policy" "enable_music" {
  name   = "enable-kds-music"
  role   = aws_iam_role.enable_music.id
  policy = <<-JSON
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": "iam:CreateServiceLinkedRole",
          "Resource": "arn:aws:iam::*:role/aws-service-role/kinesisreplication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBKinesisDataStreamsReplication",
          "Condition": {"StringLike": {"iam:AWSServiceName": "kinesisreplication.dynamodb.amazonaws.com"}}
        },
        {
          "Effect": "Allow",
          "Action": [
            "dynamodb:EnableKinesisStreamingDestination"
          ],
          "Resource": "arn:aws:dynamodb:us-west-2:123456789012:table/Music"
        }
      ]
    }
  JSON
}

# Example 2: may disable replication on Music.
resource "aws_iam_role" "disable_music" {
  name               = "kds-disable-music"
  assume_role_policy = data.aws_iam_policy_document.assume_from_account.json
}

resource "aws_iam_policy" "disable_music" {
  name = "disable-kds-music"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:DisableKinesisStreamingDestination"]
        Resource = "arn:aws:dynamodb:us-west-2:123456789012:table/Music"
      }
    ]
  })
}

resource "aws_iam_role_policy_attachment" "disable_music" {
  role       = aws_iam_role.disable_music.name
  policy_arn = aws_iam_policy.disable_music.arn
}

# Example 3: may enable and describe on Music; denied disabling on Orders.
resource "aws_iam_role" "selective" {
  name               = "kds-selective"
  assume_role_policy = data.aws_iam_policy_document.assume_from_account.json
}

data "aws_iam_policy_document" "selective" {
  statement {
    effect = "Allow"
    actions = [
      "dynamodb:EnableKinesisStreamingDestination",
      "dynamodb:DescribeKinesisStreamingDestination",
    ]
    resources = ["arn:aws:dynamodb:us-west-2:123456789012:table/Music"]
  }

  statement {
    effect    = "Deny"
    actions   = ["dynamodb:DisableKinesisStreamingDestination"]
    resources = ["arn:aws:dynamodb:us-west-2:123456789012:table/Orders"]
  }
}

resource "aws_iam_role_policy" "selective" {
  name   = "selective-kds"
  role   = aws_iam_role.selective.id
  policy = data.aws_iam_policy_document.selective.json
}

# An operations role with broad IAM rights: it can delete the service-linked role.
resource "aws_iam_role" "ops_admin" {
  name               = "ops-admin"
  assume_role_policy = data.aws_iam_policy_document.assume_from_account.json

  inline_policy {
    name = "iam-admin"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Effect   = "Allow"
          Action   = "iam:*"
          Resource = "*"
        }
      ]
    })
  }
}
