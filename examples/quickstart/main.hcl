# Quickstart: one Dovecot server whose agent runs on the same machine.
#
# The three variables below have defaults for a stock Debian mail server;
# override them with -var, a mailkeep.mkvars file or MAILKEEP_VAR_<name>
# (the demo and the tests point them at a temporary directory).

variable "agent_address" {
  type        = string
  default     = "unix:///run/mailkeep/agent.sock"
  description = "Where the mailkeep agent on the mail server listens."
}

variable "mail_store" {
  type        = string
  default     = "maildir:/var/vmail/%d/%n/Maildir"
  description = "The mail store, in Dovecot's mail_location syntax."
}

variable "backup_path" {
  type        = string
  default     = "/opt/mailkeep/backup"
  description = "Where the backup repository lives on the mail server."
}

global {
  mail_store  = var.mail_store
  backup_path = var.backup_path

  # Deleted mail stays restorable for 60 days instead of the default 30.
  purge {
    item_retention_days = 60
  }

  # After a restore, let Dovecot pick up the restored files at once.
  restore {
    post_command = ["doveadm", "force-resync", "-u", "%u", "*"]
  }
}

server "mail" {
  address     = var.agent_address
  description = "The mail server"
}
