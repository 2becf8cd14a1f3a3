module "c" {
  source = "../c"
}
