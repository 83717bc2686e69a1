// Package location parses the mail_store setting: a mail store's location
// in Dovecot's mail_location syntax, DRIVER:PATH[:KEY=VALUE...], such as
// "maildir:/var/vmail/%d/%n/Maildir:LAYOUT=fs".
//
// It is the Maildir driver's own description of where a store is, kept
// apart from the driver so that the policy language (package schema) can
// validate a mail_store value without linking the driver, and the driver
// can be opened without linking the policy language: this package imports
// only the standard library.
//
// Parse checks a value and returns its Location; Expand fills a path
// template for one account; Variable reads one template variable, for
// callers that match templates against paths.
package location
