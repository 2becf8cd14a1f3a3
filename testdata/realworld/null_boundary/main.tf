# A module whose permissions boundary variable defaults to null: no boundary is set.

module "app" {
  source = "./modules/role"
  name   = "app"
}
