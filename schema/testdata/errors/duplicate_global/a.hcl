global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {}
