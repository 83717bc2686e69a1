server "mx2" {
  address     = "https://mx2.example.com:7443"
  backup_path = "backup"
  realtime_scaner = false
}
