variable "edges" {
  type      = map(string)
  sensitive = true
  default = {
    fra = "https://fra.example.com:7443"
  }
}

global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "edge" {
  for_each = var.edges
  address  = each.value
}
