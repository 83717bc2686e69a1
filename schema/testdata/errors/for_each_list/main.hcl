global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "edge" {
  for_each = ["fra", "ams"]
  address  = "https://${each.key}.example.com:7443"
}
