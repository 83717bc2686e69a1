global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {
  address = "https://mx1.example.com:7443"
}
