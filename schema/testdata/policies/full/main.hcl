# Every setting set to a value other than its default.
global {
  description          = "full <policy> & more"
  mail_store           = "maildir:/var/vmail/%d/%n/Maildir:LAYOUT=fs:INDEX=/var/index/%u"
  backup_path          = "/srv/mailkeep/backup"
  realtime_scanner     = false
  enabled_at_startup   = false
  smartscan_at_startup = true

  reserved_space {
    backup_mb   = 10240
    metadata_mb = 1024
  }

  smartscan {
    enabled  = false
    schedule = "@daily"
    timezone = "Europe/Paris"
  }

  purge {
    enabled                = false
    schedule               = "30 2 * * 0"
    timezone               = "UTC"
    item_retention_days    = 90
    account_retention_days = 0
  }

  include {
    ldap_dump         = true
    server_config     = true
    purge_old_configs = false
  }

  index {
    enabled     = true
    engine      = "flatcurve"
    compression = "none"
    max_size_mb = 512
  }

  metadata {
    flush_on_save     = false
    archive_in_remote = false
  }

  restore {
    post_command      = ["doveadm", "force-resync", "-u", "%u", "*"]
    post_command_user = "vmail"
  }

  accounts {
    include = ["*@example.com", "*@example.org"]
    exclude = ["test-*@example.com"]
  }

  legal_hold {
    accounts = ["ceo@example.com"]
  }

  remote {
    enabled          = true
    endpoint         = "https://s3.example.com"
    region           = "eu-west-3"
    bucket           = "mail-backup"
    prefix           = "mx/"
    path_style       = true
    profile          = "backup"
    credentials_file = "/etc/mailkeep/aws-credentials"
  }
}

server "mx1" {
  address    = "https://mx1.example.com:7443"
  token_file = "/etc/mailkeep/mx1.token"
  ca_file    = "/etc/mailkeep/ca.pem"
  protect    = true
}
