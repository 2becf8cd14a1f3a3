variable "name" {}

resource "aws_dynamodb_table" "t" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
}

resource "aws_kinesis_stream" "s" {
  name        = format("%s-%s", var.name, "changes")
  shard_count = 1
}

resource "aws_dynamodb_kinesis_streaming_destination" "d" {
  table_name = aws_dynamodb_table.t.name
  stream_arn = aws_kinesis_stream.s.arn
}

output "table_arn" {
  value = aws_dynamodb_table.t.arn
}
