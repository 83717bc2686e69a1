# A fleet: one global policy, a group of regional mail servers declared
# with for_each (named mx.<key>: mx.fra1, mx.nyc1, ...) and one server with
# its own rules.

locals {
  store       = "maildir:/var/vmail/%d/%n/Maildir:INDEX=/var/dovecot/index/%d/%n"
  big_servers = [for name, r in var.regions : name if r.mailboxes > 5000]
}

global {
  mail_store = local.store

  reserved_space {
    backup_mb   = 10240
    metadata_mb = 1024
  }

  smartscan {
    schedule = "30 3 * * *"
  }

  purge {
    schedule            = "0 5 * * 0"
    item_retention_days = 45
  }

  accounts {
    exclude = ["test-*@*", "noreply@*"]
  }

  legal_hold {
    accounts = ["ceo@example.com", "*@legal.example.com"]
  }

  remote {
    enabled    = true
    endpoint   = "https://s3.example.com"
    bucket     = var.archive_bucket
    path_style = true
  }

  restore {
    post_command = ["doveadm", "force-resync", "-u", "%u", "*"]
  }
}

server "mx" {
  for_each = var.regions

  address     = "https://${each.key}.mail.example.com:7443"
  token_env   = var.token_env
  ca_file     = "/etc/mailkeep/fleet-ca.pem"
  description = format("Regional MX %s (%d mailboxes)", upper(each.key), each.value.mailboxes)

  # Each server's schedules follow its own clock; big servers keep deleted
  # items longer (null keeps the global value).
  smartscan {
    timezone = each.value.zone
  }
  purge {
    timezone            = each.value.zone
    item_retention_days = contains(local.big_servers, each.key) ? 90 : null
  }
}

server "archive" {
  address     = "https://archive.mail.example.com:7443"
  token_file  = "/etc/mailkeep/archive.token"
  ca_file     = "/etc/mailkeep/fleet-ca.pem"
  description = "Compliance archive: never purge accounts, keep items for ten years"
  protect     = true

  purge {
    item_retention_days    = 3650
    account_retention_days = 0
  }

  include {
    ldap_dump     = true
    server_config = true
  }
}
