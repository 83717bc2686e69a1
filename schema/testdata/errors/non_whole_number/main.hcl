global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purge {
    account_retention_days = 1.5
  }
}

server "mx1" {}
