package catalog

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/mailkeep/mailkeep/runtime/fsutil"

	_ "github.com/mattn/go-sqlite3" // the catalog's SQL engine
)

// FormatVersion is the version of the catalog schema this mailkeep writes.
const FormatVersion = 1

// Catalog is an open catalog database.
type Catalog struct {
	db   *sql.DB
	path string
}

// Options tune how the catalog is opened.
type Options struct {
	// Durable makes every commit durable on disk before it returns
	// (synchronous=FULL): metadata.flush_on_save. Otherwise commits are
	// durable at the next checkpoint (synchronous=NORMAL in WAL mode, which
	// never corrupts the database, but may lose the last commits on power
	// loss).
	Durable bool
	// ReadOnly opens an existing catalog for reading only.
	ReadOnly bool
}

// Open opens (or creates) the catalog at path. A catalog opened for
// writing is private to its owner: the database is created mode 0600
// before SQLite opens it (SQLite gives its -wal and -shm files the
// database's mode), and an existing one, with its -wal and -shm, loses
// any group and other permission bits.
func Open(path string, opts Options) (*Catalog, error) {
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", path, err)
		}
	} else if err := createPrivate(path); err != nil {
		return nil, err
	}
	sync := "NORMAL"
	if opts.Durable {
		sync = "FULL"
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=" + sync + "&_busy_timeout=10000&_foreign_keys=1&_txlock=immediate"
	if opts.ReadOnly {
		dsn += "&mode=ro"
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	c := &Catalog{db: db, path: path}
	if !opts.ReadOnly {
		err := c.migrate()
		for _, suffix := range []string{"-wal", "-shm"} {
			if err == nil {
				err = fsutil.PrivateFile(path + suffix)
			}
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	} else if err := c.checkVersion(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

// createPrivate creates the database file mode 0600 when missing, or
// makes an existing one private; a symlink or a special file is refused.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return fmt.Errorf("catalog %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("catalog %s is %s, not a database file", path, fsutil.Kind(fi.Mode()))
	}
	err = f.Close()
	if err == nil {
		err = fsutil.PrivateFile(path)
	}
	if err != nil {
		return fmt.Errorf("catalog %s: %w", path, err)
	}
	return nil
}

// Path returns the catalog's file name.
func (c *Catalog) Path() string { return c.path }

// Close closes the database.
func (c *Catalog) Close() error { return c.db.Close() }

// DB exposes the database for read-only inspection by tests and tools.
func (c *Catalog) DB() *sql.DB { return c.db }

func (c *Catalog) migrate() error {
	v, err := c.version()
	if err != nil {
		return err
	}
	switch {
	case v == 0:
		tx, err := c.db.Begin()
		if err != nil {
			return fmt.Errorf("catalog %s: %w", c.path, err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(schemaSQL); err != nil {
			return fmt.Errorf("catalog %s: creating schema: %w", c.path, err)
		}
		if _, err := tx.Exec(`INSERT INTO meta(key, value) VALUES ('format_version', ?)`, strconv.Itoa(FormatVersion)); err != nil {
			return fmt.Errorf("catalog %s: %w", c.path, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("catalog %s: %w", c.path, err)
		}
	case v > FormatVersion:
		return fmt.Errorf("catalog %s has format version %d; this mailkeep reads up to %d: upgrade mailkeep", c.path, v, FormatVersion)
	}
	// Columns added within format version 1 (an older mailkeep ignores
	// them).
	var n int
	if err := c.db.QueryRow(`SELECT count(*) FROM pragma_table_info('accounts') WHERE name = 'exact_from'`).Scan(&n); err != nil {
		return fmt.Errorf("catalog %s: %w", c.path, err)
	}
	if n == 0 {
		if _, err := c.db.Exec(`ALTER TABLE accounts ADD COLUMN exact_from INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("catalog %s: adding accounts.exact_from: %w", c.path, err)
		}
	}
	if _, err := c.db.Exec(restoresSQL); err != nil {
		return fmt.Errorf("catalog %s: creating the restore log: %w", c.path, err)
	}
	// Caches that a catalog may lack (they hold no history) are created
	// when missing.
	if _, err := c.db.Exec(cacheSQL); err != nil {
		return fmt.Errorf("catalog %s: creating caches: %w", c.path, err)
	}
	if _, err := c.db.Exec(headersSQL); err != nil {
		return fmt.Errorf("catalog %s: creating blob_headers: %w", c.path, err)
	}
	return nil
}

// cacheSQL creates the tables that only speed scans up: losing them loses
// no history.
const cacheSQL = `
CREATE TABLE IF NOT EXISTS folder_stamps (
	account_id     INTEGER NOT NULL,
	dir            TEXT NOT NULL,
	new_mtime      INTEGER NOT NULL,
	cur_mtime      INTEGER NOT NULL,
	uidlist_mtime  INTEGER NOT NULL,
	keywords_mtime INTEGER NOT NULL,
	listed_at      INTEGER NOT NULL,
	PRIMARY KEY (account_id, dir)
) WITHOUT ROWID;
`

func (c *Catalog) checkVersion() error {
	v, err := c.version()
	if err != nil {
		return err
	}
	if v == 0 || v > FormatVersion {
		return fmt.Errorf("catalog %s has format version %d; this mailkeep reads 1 to %d", c.path, v, FormatVersion)
	}
	return nil
}

// version returns the schema version, 0 for an empty database.
func (c *Catalog) version() (int, error) {
	var n int
	if err := c.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	if n == 0 {
		return 0, nil
	}
	var s string
	err := c.db.QueryRow(`SELECT value FROM meta WHERE key='format_version'`).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("catalog %s: meta table has no format_version", c.path)
	}
	if err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("catalog %s: bad format_version %q", c.path, s)
	}
	return v, nil
}

// schemaSQL creates the catalog. Times are Unix nanoseconds; a NULL
// valid_to means "still current". docs/REPOSITORY.md describes it.
const schemaSQL = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE blobs (
	id     BLOB PRIMARY KEY,
	pack   INTEGER NOT NULL,
	offset INTEGER NOT NULL,
	length INTEGER NOT NULL,
	size   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX blobs_pack ON blobs(pack);
CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	deleted_at INTEGER,
	exact_from INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE account_versions (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts(id),
	uid           INTEGER NOT NULL,
	gid           INTEGER NOT NULL,
	mode          INTEGER NOT NULL,
	subscriptions BLOB,
	valid_from    INTEGER NOT NULL,
	valid_to      INTEGER
);
CREATE INDEX account_versions_time ON account_versions(account_id, valid_from);
CREATE TABLE folder_versions (
	id          INTEGER PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts(id),
	name        TEXT NOT NULL,
	dir         TEXT NOT NULL,
	uid         INTEGER NOT NULL,
	gid         INTEGER NOT NULL,
	mode        INTEGER NOT NULL,
	uidvalidity INTEGER NOT NULL,
	nextuid     INTEGER NOT NULL,
	guid        TEXT NOT NULL,
	keywords    TEXT NOT NULL,
	valid_from  INTEGER NOT NULL,
	valid_to    INTEGER
);
CREATE INDEX folder_versions_time ON folder_versions(account_id, valid_from);
CREATE INDEX folder_versions_open ON folder_versions(account_id, valid_to);
CREATE TABLE items (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	folder     TEXT NOT NULL,
	base       TEXT NOT NULL,
	subdir     TEXT NOT NULL,
	name       TEXT NOT NULL,
	blob       BLOB NOT NULL REFERENCES blobs(id),
	size       INTEGER NOT NULL,
	mtime      INTEGER NOT NULL,
	ino        INTEGER NOT NULL,
	flags      TEXT NOT NULL,
	keywords   TEXT NOT NULL,
	uid        INTEGER NOT NULL,
	fuid       INTEGER NOT NULL,
	fgid       INTEGER NOT NULL,
	fmode      INTEGER NOT NULL,
	valid_from INTEGER NOT NULL,
	valid_to   INTEGER
);
CREATE INDEX items_open ON items(account_id, valid_to);
CREATE INDEX items_time ON items(account_id, valid_from);
CREATE INDEX items_blob ON items(blob);
CREATE TABLE scans (
	id        INTEGER PRIMARY KEY,
	kind      TEXT NOT NULL,
	started   INTEGER NOT NULL,
	finished  INTEGER,
	outcome   TEXT NOT NULL,
	detail    TEXT NOT NULL DEFAULT ''
);
`
