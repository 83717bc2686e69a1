// Package runtime is the root of the mailkeep agent, the process that runs
// on each mail server; it holds no code itself. Its packages, in the order
// data flows through them (docs/ARCHITECTURE.md has the whole picture, the
// interfaces and the import rules):
//
//   - agent: the HTTP API, the config document, the scheduler and the
//     operations; with agent/api (every type on the wire, standard library
//     only), agent/api/apitest (the API's conformance suite) and
//     agent/impact (the policy-impact rules the planner also calls). Only
//     the agent reads the policy schema.
//   - store: the store-driver interface the engines use, and
//     store/storetest, the contract every driver keeps; maildir is the
//     Maildir driver, maildir/location parses Dovecot's mail_location.
//   - scan (SmartScan), realtime (the change-driven scanner), purge
//     (retention), restore, export, history and mailheader (search): the
//     engines; selection says which accounts a policy selects and holds.
//   - repo: a repository, a catalog and a pack store opened together;
//     catalog (SQLite) says what every account held when, pack stores the
//     compressed message blobs over a pack.Backend (pack/backendtest is
//     the contract every backend keeps, pack/faultbackend injects EIO).
//   - client: the Go client of the agent's API, used by the command line
//     and by reconcile.
//   - repair, secret, fsutil, names, bufpool: catalog rebuild, secret files
//     and listeners, private files and fsync, byte names, buffers.
package runtime
