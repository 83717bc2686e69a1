global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "edge" {
  for_each = {
    "fra 1" = "https://fra1.example.com:7443"
  }
  address = each.value
}

server "core" {
  for_each = toset(["-leading-dash"])
  address  = "https://core.example.com:7443"
}

server "bad" {
  for_each = toset([["nested"]])
}
