variable "retention" {
  type    = number
  default = 30
}

global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purge {
    item_retention_days = var.retention
  }
}

server "mx1" {}
