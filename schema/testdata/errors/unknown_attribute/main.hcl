global {
  mail_store      = "maildir:/var/vmail/%d/%n/Maildir"
  realtime_scaner = true

  purge {
    item_retention_day = 60
  }
}

server "mx1" {
  adress = "https://mx1.example.com:7443"
}
