global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {
  backup_path = "backup/mx1"
}
