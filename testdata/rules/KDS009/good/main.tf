resource "aws_dynamodb_table" "orders" {
  name         = "Orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_kinesis_stream" "orders" {
  name        = "orders-changes"
  shard_count = 1
}

resource "aws_dynamodb_kinesis_streaming_destination" "orders" {
  table_name = aws_dynamodb_table.orders.name
  stream_arn = aws_kinesis_stream.orders.arn
}

resource "aws_dynamodb_table" "archive" {
  name         = "Archive"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

# A stream declared elsewhere, named by a well-formed ARN in the same account and region.
resource "aws_dynamodb_kinesis_streaming_destination" "archive" {
  table_name = aws_dynamodb_table.archive.name
  stream_arn = "arn:aws:kinesis:us-east-1:123456789012:stream/archive-changes"
}
