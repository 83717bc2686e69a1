global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "no-scheme" {
  address = "mx1.example.com:7443"
}

server "ftp" {
  address = "ftp://mx2.example.com:21"
}

server "unix-relative" {
  address = "unix://run/mailkeep/agent.sock"
}

server "http-path" {
  address = "http://mx4.example.com:7443/api"
}

server "http-credentials" {
  address = "https://admin:s3cr3t@mx5.example.com:7443"
}
