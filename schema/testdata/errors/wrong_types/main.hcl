global {
  mail_store       = "maildir:/var/vmail/%d/%n/Maildir"
  realtime_scanner = "yes"

  reserved_space {
    backup_mb = [1024, 2048]
  }
}

server "mx1" {}
