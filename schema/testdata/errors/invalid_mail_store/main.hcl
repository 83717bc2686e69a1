server "driver" {
  address    = "https://driver.example.com:7443"
  mail_store = "mbox:/var/mail/%u"
}

server "option" {
  address    = "https://option.example.com:7443"
  mail_store = "maildir:/var/vmail/%d/%n/Maildir:DIRNAME=mails"
}

server "relative" {
  address    = "https://relative.example.com:7443"
  mail_store = "maildir:var/vmail/%d/%n/Maildir"
}

server "account" {
  address    = "https://account.example.com:7443"
  mail_store = "maildir:/var/vmail/shared/Maildir"
}
