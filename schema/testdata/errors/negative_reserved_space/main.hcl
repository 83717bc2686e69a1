global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  reserved_space {
    metadata_mb = -512
  }
}

server "mx1" {}
