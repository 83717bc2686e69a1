global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purge {
    item_retention_days = 60
  }

  purge {
    account_retention_days = 90
  }
}

server "mx1" {}
