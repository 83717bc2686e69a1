// Package repo is a mailkeep backup repository on disk: the identity file
// (mailkeep-repo.json, with the format version), the lock that keeps a
// second process out, the pack files holding compressed, deduplicated
// message contents (package pack), and the catalog holding the history of
// every account (package catalog).
//
// Writers put blobs into packs, Sync the packs, then commit the catalog
// transaction that refers to them: the commit is the commit point, so a
// crash at any moment leaves a catalog that only names durable data.
// docs/REPOSITORY.md describes the format.
package repo
