variable "name" {
  type = string
}

resource "aws_kinesis_stream" "this" {
  name        = var.name
  shard_count = 1
}

output "arn" {
  value = aws_kinesis_stream.this.arn
}
