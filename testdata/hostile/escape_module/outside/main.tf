output "x" {
  value = "outside"
}
