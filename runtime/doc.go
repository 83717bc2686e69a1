// Package runtime is the root of the mailkeep agent, the process that runs
// on each mail server; it holds no code itself. Its packages, in the order
// data flows through them (docs/ARCHITECTURE.md has the whole picture and
// the import rules):
//
//   - agent: the HTTP API, the config document, the scheduler and the
//     operations; the only runtime package that reads the policy schema.
//   - maildir: the Maildir store driver (Dovecot's layouts), read by
//     scan and realtime and written by restore.
//   - scan (SmartScan), realtime (the change-driven scanner), purge
//     (retention), restore, export, history: the engines.
//   - repo: a repository, a catalog and a pack store together; catalog
//     (SQLite) says what every account held when, pack stores the
//     compressed message blobs.
//   - client: the Go client of the agent's API, used by the command line
//     and by reconcile.
//   - repair, secret, fsutil, names, bufpool, mailheader: helpers shared
//     by the above.
package runtime
