module "outside" {
  source = "../outside"
}
