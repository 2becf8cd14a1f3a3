resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"

  lifecycle {
    prevent_destroy = true
  }
}

# Another service's role is not this rule's business.
resource "aws_iam_service_linked_role" "es" {
  aws_service_name = "es.amazonaws.com"
}
