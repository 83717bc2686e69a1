variable "edges" {
  type = map(string)
  default = {
    fra = "https://fra.edge.example.com:7443"
    ams = "https://ams.edge.example.com:7443"
  }
}

global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

# A map.
server "edge" {
  for_each    = var.edges
  address     = each.value
  description = "edge ${each.key}"
}

# An object: each.value has attributes of different types.
server "core" {
  for_each = {
    par = { host = "par.core.example.com", days = 60 }
    lon = { host = "lon.core.example.com", days = 90 }
  }
  address     = "https://${each.value.host}:7443"
  description = each.key

  purge {
    item_retention_days = each.value.days
  }
}

# A set of strings.
server "relay" {
  for_each    = toset(["r2", "r1", "r2"])
  address     = "https://${each.value}.relay.example.com:7443"
  description = each.key
}
