global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
  address    = "https://mx1.example.com:7443"
}

server "mx1" {}
