variable "retention" {
  type    = number
  default = 30

  validation {
    condition     = var.retention >= 7
    error_message = "Keep deleted items for at least a week."
  }
}

global {
  mail_store = "maildir:/var/vmail/%d/%n/Maildir"

  purge {
    item_retention_days = var.retention
  }
}

server "mx1" {}
