# Three instances of one module, each in its own account (provider alias), two of them
# giving their role the same name. Each instance attaches AdministratorAccess to its own
# role by reference: every role must get its attachment.

provider "aws" {
  alias  = "first"
  region = "eu-west-1"
}

provider "aws" {
  alias  = "second"
  region = "eu-west-1"
}

provider "aws" {
  alias  = "third"
  region = "eu-west-1"
}

module "a" {
  source    = "./admin-role"
  role_name = "same"
  providers = { aws = aws.first }
}

module "b" {
  source    = "./admin-role"
  role_name = "same"
  providers = { aws = aws.second }
}

module "c" {
  source    = "./admin-role"
  role_name = "different"
  providers = { aws = aws.third }
}
