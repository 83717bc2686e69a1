server "dotdot" {
  address    = "https://dotdot.example.com:7443"
  mail_store = "maildir:/var/vmail/%d/../%n/Maildir"
}

server "newline" {
  address    = "https://newline.example.com:7443"
  mail_store = "maildir:/var/vmail/%d/%n/Maildir\n"
}

server "control-dotdot" {
  address    = "https://control-dotdot.example.com:7443"
  mail_store = "maildir:/var/vmail/%u:CONTROL=/var/control/../%u"
}

server "nul-index" {
  address    = "https://nul-index.example.com:7443"
  mail_store = "maildir:/var/vmail/%u:INDEX=/var/index/\u0000%u"
}
