resource "aws_dynamodb_table" "orders" {
  name         = "prod-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_iam_role" "replication_admin" {
  name               = "replication-admin"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
}

resource "aws_iam_role" "app" {
  name               = "orders-app"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
}

data "aws_iam_policy_document" "manage" {
  statement {
    actions   = ["dynamodb:DisableKinesisStreamingDestination"]
    resources = [aws_dynamodb_table.orders.arn]
  }
}

resource "aws_iam_role_policy" "admin" {
  role   = aws_iam_role.replication_admin.id
  policy = data.aws_iam_policy_document.manage.json
}
