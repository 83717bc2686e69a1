server "domain-level" {
  address     = "https://domain-level.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/var/vmail/backup"
}

server "in-maildir" {
  address     = "https://in-maildir.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/var/vmail/example.com/alice/Maildir/.backup"
}

server "holds-store" {
  address     = "https://holds-store.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/var"
}

server "store-base" {
  address     = "https://store-base.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/var/vmail/"
}

server "default-path" {
  address    = "https://default-path.example.com:7443"
  mail_store = "maildir:/opt/%u"
}

server "beside" {
  address     = "https://beside.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/var/vmail-backup"
}

server "home" {
  address     = "https://home.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/var/vmail/example.com/alice/backup"
}
