global {
  mail_store          = "maildir:/var/vmail/%d/%n/Maildir"
  mail_store_symlinks = "follow"
}

server "mx1" {}
