global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {
  address    = "https://mx1.example.com:7443"
  token_file = "/etc/mailkeep/mx1.token"
  token_env  = "MX1_TOKEN"
}
