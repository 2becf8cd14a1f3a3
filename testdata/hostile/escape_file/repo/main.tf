resource "aws_iam_role" "ops" {
  name               = "ops"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy" "ops" {
  role   = aws_iam_role.ops.name
  policy = file("${path.module}/../outside.json")
}
