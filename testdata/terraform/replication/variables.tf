variable "table_name" {
  type    = string
  default = "orders"
}
