// Package repair brings a repository whose catalog is lost or damaged
// back into use: it rebuilds a catalog from what the pack files hold.
// Packs hold message contents only, so what comes back is every intact
// message, grouped by the account it was delivered to; folders, flags,
// file names and history were in the catalog alone. The agent refuses a
// repository without its catalog (repo.CatalogError) and says to run
// this, as `mailkeep repair -rebuild-catalog BACKUP_PATH`.
package repair
