global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

# One mistake in the body of a block with three instances is one error.
server "edge" {
  for_each = toset(["fra", "ams", "par"])
  address  = "https://${each.key}.example.com:7443"

  purge {
    item_retention_days = -1
  }
}
