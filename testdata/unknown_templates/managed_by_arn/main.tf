# AWS managed policies attached by ARN through a list variable and `count`: the attachment
# block itself never spells the policy's ARN.

variable "managed_policy_arns" {
  type    = list(string)
  default = ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
}

resource "aws_iam_role" "etl" {
  name = "etl"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "glue.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "etl" {
  count      = length(var.managed_policy_arns)
  role       = aws_iam_role.etl.name
  policy_arn = var.managed_policy_arns[count.index]
}
