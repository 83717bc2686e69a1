global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
  purge {
    item_retention_days = -1
  }
}

server "mx1" {
  address = "ftp://mx1.example.com"
  smartscan {
    schedule = "0 4 * * 8"
  }
}
