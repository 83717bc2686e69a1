variable "regions" {
  type = map(object({
    zone      = string
    mailboxes = number
  }))
  description = "The mail servers of the fleet, by name: their time zone and size."
}

variable "archive_bucket" {
  type        = string
  sensitive   = true
  description = "The S3 bucket that holds remote copies; not shown in plans or listings."
}

variable "token_env" {
  type        = string
  default     = "MAILKEEP_TOKEN"
  description = "The environment variable holding the agents' token where plan and apply run."
}
