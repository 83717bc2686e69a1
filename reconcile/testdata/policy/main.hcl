# The policy of the reconcile package's tests. Agents are in-memory fakes;
# the addresses are never dialled.

variable "bucket" {
  type      = string
  sensitive = true
  default   = "acme-secret-bucket"
}

global {
  mail_store = "maildir:/srv/vmail/%d/%n/Maildir"

  remote {
    bucket = var.bucket
  }

  restore {
    post_command = ["doveadm", "force-resync", "-u", "%u", "*"]
  }
}

server "changed" {
  address     = "https://changed.example.com:7443"
  token_env   = "MK_TOKEN"
  backup_path = "/srv/backup/changed"
  description = "Changed by the policy"

  purge {
    item_retention_days = 7
  }
}

server "gone" {
  address     = "https://gone.example.com:7443"
  token_env   = "MK_TOKEN"
  backup_path = "/srv/backup/gone"
}

server "new" {
  address     = "https://new.example.com:7443"
  token_env   = "MK_TOKEN"
  backup_path = "/srv/backup/new"
}

server "same" {
  address     = "https://same.example.com:7443"
  token_env   = "MK_TOKEN"
  backup_path = "/srv/backup/same"
}

server "vault" {
  address     = "https://vault.example.com:7443"
  token_file  = "/etc/mailkeep/vault.token"
  backup_path = "/srv/backup/vault"
  protect     = true

  smartscan {
    enabled = false
  }
}
