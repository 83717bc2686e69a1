# One variable per layer of precedence; each layer sets the variables of
# its own letter and every later letter, so each variable shows which layer
# won.
variable "a" { default = "default" }
variable "b" { default = "default" }
variable "c" { default = "default" }
variable "d" { default = "default" }
variable "e" { default = "default" }
variable "f" { default = "default" }
variable "g" { default = "default" }

global {
  mail_store  = "maildir:/var/vmail/%d/%n/Maildir"
  description = join(" ", [var.a, var.b, var.c, var.d, var.e, var.f, var.g])
}

server "mx1" {}
