resource "aws_dynamodb_table" "orders" {
  name         = "Orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_dynamodb_kinesis_streaming_destination" "orders" { # expect: KDS009
  table_name = aws_dynamodb_table.orders.name
  stream_arn = "arn:aws:kinesis:us-east-1:123456789012:orders-changes"
}
