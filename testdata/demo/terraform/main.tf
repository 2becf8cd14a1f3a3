# Demo: two tables replicating into Kinesis, and the roles that manage replication.
# The three replication roles carry the example policies of AWS's documentation page
# "Using IAM policies for Amazon Kinesis Data Streams and Amazon DynamoDB".

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "environment" {
  type    = string
  default = "prod"
}

locals {
  stream_name = "music-changes-${var.environment}"
}

resource "aws_dynamodb_table" "music" {
  name         = "Music"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "Artist"

  attribute {
    name = "Artist"
    type = "S"
  }
}

resource "aws_dynamodb_table" "orders" {
  name         = "Orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "OrderId"

  attribute {
    name = "OrderId"
    type = "S"
  }
}

resource "aws_kinesis_stream" "music" {
  name             = local.stream_name
  shard_count      = 1
  retention_period = 24
}

resource "aws_dynamodb_kinesis_streaming_destination" "music" {
  table_name = aws_dynamodb_table.music.name
  stream_arn = aws_kinesis_stream.music.arn
}

# The service-linked role replication runs as, declared here so that the first enable
# does not have to create it.
resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
}
