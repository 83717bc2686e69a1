server "root" {
  address     = "https://root.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/"
}

server "proc" {
  address     = "https://proc.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/proc/mailkeep"
}

server "sys" {
  address     = "https://sys.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/sys"
}

server "dev" {
  address     = "https://dev.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/dev/shm/backup"
}

server "nul" {
  address     = "https://nul.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/srv/backup\u0000x"
}

server "newline" {
  address     = "https://newline.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/srv/backup\nx"
}

server "dotdot" {
  address     = "https://dotdot.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/srv/../proc/x"
}

server "tab" {
  address     = "https://tab.example.com:7443"
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  backup_path = "/srv/back\tup"
}
