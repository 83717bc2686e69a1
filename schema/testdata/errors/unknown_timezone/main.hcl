global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purge {
    timezone = "Europe/Pariss"
  }
}

server "mx1" {}
