# Values for the corpus root module kevintruong__terraform-101-labs/milestone_02/dynamodb/lab/dev/ingest,
# which declares its variables without defaults (tests/terraform.rs passes this file with --var-file).
kds_list = {
  orders-stream = {
    shard_count      = 1
    retention_period = 24
    stream_mode      = "PROVISIONED"
  }
}

dynamodb_tabl = {
  orders = {
    stream_enable = true
    stream_arn    = "arn:aws:kinesis:ap-southeast-1:111122223333:stream/orders-stream"
  }
  audit = {
    stream_enable = false
    stream_arn    = null
  }
}
