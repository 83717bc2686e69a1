global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purg {
    enabled = false
  }
}

server "mx1" {}
