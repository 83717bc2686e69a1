global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {
  purge {
    item_retention_days = -7
  }
}
