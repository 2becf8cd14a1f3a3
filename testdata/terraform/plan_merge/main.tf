# Pins the merge of a plan with the configuration beside it: the plan decides the
# for_each instances and the variable value the configuration leaves unknown; the
# service-linked role's protection comes from `lifecycle` in this file.

variable "teams" {}
variable "table_name" {}

resource "aws_dynamodb_table" "t" {
  name     = var.table_name
  hash_key = "id"
}

resource "aws_iam_role" "team" {
  for_each           = var.teams
  name               = "team-${each.key}"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy" "team" {
  for_each = var.teams
  role     = aws_iam_role.team[each.key].name
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = aws_dynamodb_table.t.arn }]
  })
}

resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
  lifecycle {
    prevent_destroy = true
  }
}
