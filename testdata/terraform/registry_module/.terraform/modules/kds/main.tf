# acme/kds-pipeline/aws 1.2.0 (as installed by terraform init)
variable "table_name" {
  type = string
}

resource "aws_dynamodb_table" "this" {
  name     = var.table_name
  hash_key = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}

module "stream" {
  source = "git::https://example.com/acme/stream.git?ref=v1"
  name   = "${var.table_name}-changes"
}

resource "aws_dynamodb_kinesis_streaming_destination" "this" {
  table_name = aws_dynamodb_table.this.name
  stream_arn = module.stream.arn
}

module "grants" {
  source    = "./modules/grants"
  table_arn = aws_dynamodb_table.this.arn
}

output "table_arn" {
  value = aws_dynamodb_table.this.arn
}

output "stream_arn" {
  value = module.stream.arn
}
