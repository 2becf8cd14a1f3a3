# Pins: module for_each / count with instance addresses, module outputs by instance
# key, `for` over a whole expanded module, formatlist and format verbs.

locals {
  tables = ["orders", "payments"]
}

module "pipe" {
  source   = "./pipe"
  for_each = toset(local.tables)
  name     = each.key
}

module "ops" {
  source       = "./ops"
  count        = 1
  table_arns   = [for key, m in module.pipe : m.table_arn]
  stream_names = formatlist("%s-changes", local.tables)
}
