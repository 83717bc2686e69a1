global {
  backup_path = "/srv/mailkeep"
}

server "mx1" {}
