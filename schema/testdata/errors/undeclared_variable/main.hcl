variable "backup_root" {
  type    = string
  default = "/srv/mailkeep"
}

global {
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = var.backup_rot
}

server "mx1" {}
