# Policies read from files whose text is not valid JSON: each is a load error located in
# its own file, and the policy is unknown for the principals it is attached to.

resource "aws_iam_role" "reader" {
  name = "reader"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_policy" "templated" {
  name = "templated"
  policy = templatefile("${path.module}/policy.tpl", {
    table = "Orders"
  })
}

resource "aws_iam_role_policy_attachment" "templated" {
  role       = aws_iam_role.reader.name
  policy_arn = aws_iam_policy.templated.arn
}

resource "aws_iam_role_policy" "plain" {
  name   = "plain"
  role   = aws_iam_role.reader.id
  policy = file("${path.module}/trailing.json")
}
