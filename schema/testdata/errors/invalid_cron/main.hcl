global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"
}

server "fields" {
  address = "https://fields.example.com:7443"
  smartscan {
    schedule = "0 4 * *"
  }
}

server "hour" {
  address = "https://hour.example.com:7443"
  smartscan {
    schedule = "0 25 * * *"
  }
}

server "weekday" {
  address = "https://weekday.example.com:7443"
  purge {
    schedule = "0 4 * * 9"
  }
}

server "descriptor" {
  address = "https://descriptor.example.com:7443"
  purge {
    schedule = "@fortnightly"
  }
}

server "tz" {
  address = "https://tz.example.com:7443"
  smartscan {
    schedule = "TZ=Europe/Paris 0 4 * * *"
  }
}

server "every" {
  address = "https://every.example.com:7443"
  smartscan {
    schedule = "@every 10s"
  }
}

server "never" {
  address = "https://never.example.com:7443"
  purge {
    schedule = "0 4 30 2 *"
  }
}
