resource "aws_iam_role" "many" {
  count              = 100000000
  name               = "role-${count.index}"
  assume_role_policy = "{}"
}
