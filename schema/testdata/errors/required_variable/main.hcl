variable "store" {
  type        = string
  description = "mail_location of the fleet"
}

global {
  mail_store = var.store
}

server "mx1" {}
