resource "aws_iam_service_linked_role" "kds" { # expect: KDS005
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
}
