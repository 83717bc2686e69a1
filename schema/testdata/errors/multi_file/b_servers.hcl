server "mx1" {
  address = "ftp://mx1.example.com:21"

  smartscan {
    schedule = "0 4 * * mon-fry"
  }
}

server "mx2" {
  address     = "https://mx2.example.com:7443"
  backup_path = "srv/backup"
}
