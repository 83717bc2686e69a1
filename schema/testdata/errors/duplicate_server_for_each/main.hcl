global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "edge" {
  for_each = toset(["fra", "ams"])
  address  = "https://${each.key}.edge.example.com:7443"
}

server "edge.ams" {
  address = "https://ams2.edge.example.com:7443"
}
