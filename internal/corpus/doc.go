// Package corpus generates deterministic Dovecot-style Maildir stores for
// tests and benchmarks, and mutates them the way a mail server does.
//
// Generate writes ROOT/<domain>/<user>/Maildir for every account (Dovecot's
// mail_location = maildir:ROOT/%d/%n/Maildir) in the Maildir++ layout:
//
//   - INBOX in the Maildir root; every other folder in a ".A.B" directory
//     (folder "A/B") holding an empty maildirfolder file; each level of a
//     name in IMAP modified UTF-7, as Dovecot writes it ("Entwürfe" is
//     ".Entw&APw-rfe"); cur/, new/ and tmp/ in every folder.
//   - Messages named "<secs>.M<micro>P<pid>Q<n>.mail,S=<size>,W=<vsize>" in
//     new/ (delivered since the account's last login: no ":2," part) or with
//     ":2,<flags>" in cur/: the standard flags DFPRST and keyword letters,
//     sorted by ASCII as Dovecot sorts them. The mtime of a message file is
//     its received date, spread over the two years before Options.Now.
//   - dovecot-uidlist in every folder: "3 V<uidvalidity> N<nextuid>
//     G<guid>" and one "<uid> :<base name>" line per message (the name
//     without ":2,<flags>"), UIDs ascending in received order with the gaps
//     left by earlier expunges.
//   - dovecot-keywords in folders whose messages carry keywords ("0
//     $Important": letter a is keyword 0).
//   - In the Maildir root: subscriptions in Dovecot 2.3's format (a "V\t2"
//     line, an empty line, then one mailbox per line with hierarchy levels
//     separated by TAB and each level in modified UTF-7, which is what
//     Dovecot 2.3.19 writes for a new account), dovecot-uidvalidity (the
//     highest UIDVALIDITY in hex, no newline) and the empty, read-only
//     dovecot-uidvalidity.<hex>.
//   - Directories 0700, files 0600, optionally chowned to Options.Owner.
//     Dovecot's index files (dovecot.index*) are not generated: Dovecot
//     rebuilds them.
//
// Message contents are RFC 5322 with MIME: Received chains, DKIM signatures,
// Message-ID, Date in various zones, RFC 2047 subjects, text bodies drawn
// from word lists (compressible like real mail; German bodies are UTF-8 in
// quoted-printable), HTML alternatives in quoted-printable, and base64
// attachments that are pseudo-random (incompressible, like JPEG or PDF
// streams) or generated CSV and text. Sizes are log-normal with a median
// near 8 KB and a Pareto tail of attachments up to Options.MaxSize.
// A share of the messages (Options.SharedFraction) are mailing-list posts
// delivered as byte-identical copies to several accounts; they carry no
// per-recipient header (no Delivered-To), so that the copies are identical.
//
// Everything is a function of Options: no clock, no process id, no map
// iteration order and no scheduling leaks into names, contents or mtimes, so
// two runs on any machines give identical trees, mtimes included. Messages
// are written in parallel on all cores.
//
// The mutation helpers RenameFlags, Deliver, Delete and Move change a store
// (generated or written by a real Dovecot) as a mail server would, keeping
// dovecot-uidlist consistent, and Verify checks that consistency.
package corpus
