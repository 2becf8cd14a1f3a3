# A root module that creates its table through a local child module and grants on the
# child's output.

module "kds" {
  source     = "./modules/kds"
  table_name = "events"
}

resource "aws_iam_role" "app" {
  name = "app"
  inline_policy {
    name = "enable"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["dynamodb:EnableKinesisStreamingDestination"]
        Resource = module.kds.table_arn
      }]
    })
  }
}
