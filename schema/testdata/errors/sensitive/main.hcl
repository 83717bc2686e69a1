variable "store" {
  type      = string
  sensitive = true
}

variable "agent" {
  type      = string
  sensitive = true
}

variable "size" {
  type      = string
  sensitive = true
}

variable "count" {
  type      = number
  sensitive = true
}

variable "retention" {
  type      = number
  sensitive = true

  validation {
    condition     = var.retention > 5000
    error_message = "Retention ${var.retention} is too short."
  }
}

locals {
  repo = "hunter2-repo/${var.store}"
}

global {
  mail_store = var.store

  reserved_space {
    backup_mb = tonumber(var.size)
  }

  purge {
    item_retention_days = var.retention
  }
}

server "mx1" {
  address = var.agent
}

server "mx2" {
  address     = "https://mx2.example.com:7443"
  backup_path = local.repo
}
