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

resource "aws_kinesis_stream" "this" {
  name        = "${var.table_name}-stream"
  shard_count = 1
}

resource "aws_dynamodb_kinesis_streaming_destination" "this" {
  table_name = aws_dynamodb_table.this.name
  stream_arn = aws_kinesis_stream.this.arn
}

output "table_arn" {
  value = aws_dynamodb_table.this.arn
}
