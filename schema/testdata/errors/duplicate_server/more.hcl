server "mx1" {
  address = "https://mx1-new.example.com:7443"
}
