// Package maildir is mailkeep's store driver for Maildir as Dovecot writes
// it (PRODUCT.md §3).
//
// A *Store implements the store driver interface (package store) with every
// optional capability — Writable, DirWatcher, OwnerKeeper — in driver.go;
// the types of a snapshot are the interface's own, under their Maildir
// names here. The contract suite (store/storetest) runs against it in every
// layout (storetest_test.go).
//
// A Store is opened from a parsed mail_store setting (package location,
// which parses Dovecot's mail_location syntax and imports nothing else). It
// enumerates accounts by globbing the path template, and Scan reads one
// account: its folders (Maildir++ ".Folder.Sub" directories or, with
// LAYOUT=fs, "Folder/Sub"; names in modified UTF-7), the messages in new/
// and cur/ with their flags and keywords, dovecot-uidlist (UIDVALIDITY and
// UIDs), dovecot-keywords, subscriptions, and the owner, group and mode of
// every directory and file.
//
// Reading never changes the store: Scan lists directories and stats each
// file once, and never opens a message; OpenMessage opens one for reading
// and finds it again by its base name when Dovecot renamed it meanwhile (a
// flag change is a rename). Files that vanish during a scan are skipped.
//
// The agent reads as root directories the mail user controls, so below an
// account's root nothing is taken on trust (see tree): every directory and
// file is opened relative to its parent without following symbolic links
// (unless mail_store_symlinks = "within_store" and the link leads inside
// the account), files are opened without blocking and only regular files
// are read. What is not read — links, FIFOs, devices, sockets, what could
// not be read — is reported in Snapshot.Skipped, and the rest of the
// account is read.
//
// Writing goes only through a Writer, which writes as a Maildir writer
// must: message files go to tmp/ first, are fsynced, given their owner,
// mode and received date, and are renamed into new/ or cur/ without ever
// replacing an existing file; dovecot-uidlist, dovecot-keywords and
// subscriptions are replaced atomically, under Dovecot's
// dovecot-uidlist.lock when the caller takes it. Below the part of the
// mail_store path the administrator wrote, the Writer follows no symbolic
// link: every directory is opened level by level with O_NOFOLLOW and
// everything is created, renamed and chowned relative to those handles
// (nofollow.go). Its temporary files carry its pid, a per-process
// instance and the host (stale.go), so that the next Writer removes those
// a killed one left, and it breaks a dovecot-uidlist.lock whose process is
// gone, as Dovecot does.
//
// Where Dovecot keeps its files:
//
//   - Without CONTROL=, dovecot-uidlist and dovecot-keywords live in each
//     folder's directory and subscriptions in the Maildir root.
//   - With CONTROL=DIR they live under DIR in the same folder structure,
//     and INBOX's files are in DIR/.INBOX (Maildir++) or DIR/INBOX
//     (LAYOUT=fs); subscriptions is DIR/subscriptions.
//   - Index files (dovecot.index*, wherever INDEX= puts them) are never
//     read: they are caches Dovecot rebuilds.
//
// The file formats (dovecot-uidlist versions 1 and 3, dovecot-keywords,
// subscriptions with and without the "V\t2" header, the ":2," info part of
// file names, modified UTF-7) have parsers and writers here, usable on
// their own.
package maildir
