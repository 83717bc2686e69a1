// Package dovecot starts a real Dovecot for tests (PRODUCT.md §5): the
// Debian packages dovecot-core, dovecot-imapd and dovecot-lmtpd, installed
// by .ci/deps.
//
// Start writes a configuration under t.TempDir() (mail_location
// maildir:<tmp>/vmail/%d/%n/Maildir, a passwd-file passdb and userdb with a
// few users, IMAP and LMTP on free loopback ports, no SSL, plaintext
// authentication allowed, base_dir and state_dir of its own, logs to a
// file), runs `dovecot -F -c <conf>` and waits until IMAP and LMTP answer.
// Mail is owned by an unprivileged system user, MailUser, created with
// useradd when missing: Dovecot refuses to access mail as root. The
// server is stopped by t.Cleanup, and its logs are dumped into the test
// log when the test failed.
//
// Tests must run as root (the Dovecot master drops privileges itself).
// When Dovecot is not installed, Start fails the test with a message that
// says to run .ci/deps; it never skips.
//
// Doveadm, DoveadmJSON and SaveMessage drive the server with doveadm;
// IMAPAddr and LMTPAddr give the addresses for protocol clients, which
// live elsewhere.
package dovecot
