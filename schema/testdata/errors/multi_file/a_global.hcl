variable "retention" {
  type    = number
  default = 30
}

global {
  mail_store     = "maildir:/var/vmail/%d/%n/Maildir"
  realtime_scan  = true

  purge {
    item_retention_days    = var.retention
    account_retention_days = -1
  }
}
