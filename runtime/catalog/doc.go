// Package catalog is the transactional index of a backup repository: an
// SQLite database (catalog.db beside the pack files) holding where every
// blob is stored and the full history of every account, folder and message.
//
// History is kept as versions: a row is valid from valid_from until
// valid_to (NULL while current), so the state of an account at any instant
// is the set of rows valid at that instant. A flag change closes a message's
// version and opens a new one pointing at the same blob; a deletion closes
// it. The commit of a write transaction is the commit point of a backup
// step; the blobs it refers to must be durable in their pack files first.
package catalog
