global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "mx1" {
  address     = "https://mx.example.com:7443"
  backup_path = "/srv/backup"
}

server "mx2" {
  address     = "HTTPS://MX.example.com:7443/"
  backup_path = "/srv/backup/"
}

server "mx3" {
  address     = "https://mx.example.com:7443"
  backup_path = "/srv/backup-mx3"
}

server "local-a" {
  address = "unix:///run/mailkeep/a.sock"
}

server "local-b" {
  address = "unix:///run/mailkeep/a.sock"
}
