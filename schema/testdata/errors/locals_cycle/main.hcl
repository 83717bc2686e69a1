locals {
  root  = "${local.store}/backup"
  store = "${local.root}/store"
}

global {
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = local.root
}

server "mx1" {}
