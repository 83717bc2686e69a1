package catalogbench

import (
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3"
	_ "modernc.org/sqlite"          // registers "sqlite"
)

var drivers = []struct{ name, driver string }{
	{"mattn", "sqlite3"},
	{"modernc", "sqlite"},
}

var syncModes = []string{"NORMAL", "FULL"}

const (
	accounts      = 20
	perAccount    = 5000
	historyRounds = 3      // rounds of 10,000 updates in the template database
	t0            = 1.77e9 // a Unix time in 2026: first valid_from
)

const schema = `
CREATE TABLE items (
	id         INTEGER PRIMARY KEY,
	account_id INT  NOT NULL,
	folder     TEXT NOT NULL,
	base       TEXT NOT NULL,
	name       TEXT NOT NULL,
	blob       BLOB NOT NULL,
	size       INT  NOT NULL,
	mtime      INT  NOT NULL,
	ino        INT  NOT NULL,
	flags      TEXT NOT NULL,
	keywords   TEXT NOT NULL,
	uid        INT  NOT NULL,
	valid_from INT  NOT NULL,
	valid_to   INT
);
CREATE INDEX items_open ON items (account_id, valid_to);
CREATE INDEX items_name ON items (account_id, folder, base);
`

const insertSQL = `INSERT INTO items (account_id, folder, base, name, blob, size, mtime, ino, flags, keywords, uid, valid_from, valid_to)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`

const columns = `id, account_id, folder, base, name, blob, size, mtime, ino, flags, keywords, uid, valid_from, valid_to`

// openDB opens path with driver in WAL mode and the given synchronous
// level, and checks that both took effect.
func openDB(tb testing.TB, driver, path, syncMode string) *sql.DB {
	tb.Helper()
	dsn := fmt.Sprintf("file:%s?_journal_mode=WAL&_synchronous=%s&_busy_timeout=5000", path, syncMode)
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	var mode string
	var level int
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		tb.Fatalf("%s: journal_mode %q, %v", driver, mode, err)
	}
	want := map[string]int{"NORMAL": 1, "FULL": 2}[syncMode]
	if err := db.QueryRow("PRAGMA synchronous").Scan(&level); err != nil || level != want {
		tb.Fatalf("%s: synchronous %d, want %d (%v)", driver, level, want, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// item is one row, as the catalog writes it.
type item struct {
	account       int
	folder, base  string
	name          string
	blob          []byte
	size, mtime   int64
	ino           int64
	flags, kwords string
	uid           int64
	validFrom     int64
}

var folders = []string{"INBOX", "INBOX", "INBOX", "Sent", "Drafts", "Archive/2025", "Projects/2026", "Lists/golang-nuts"}
var flagSets = []string{"", "S", "RS", "FS", "S", "S", "ST"}

// genItem makes the n-th message of account a, deterministically.
func genItem(r *rand.Rand, a, n int) item {
	base := fmt.Sprintf("%d.M%dP%d.mail.example.net", int64(t0)+int64(n)*37, r.IntN(1e6), 1000+r.IntN(60000))
	size := int64(2000 + r.IntN(30000))
	flags := flagSets[r.IntN(len(flagSets))]
	blob := make([]byte, 32)
	for i := range blob {
		blob[i] = byte(r.Uint32())
	}
	kw := ""
	if r.IntN(10) == 0 {
		kw = "a"
	}
	return item{
		account: a, folder: folders[r.IntN(len(folders))], base: base,
		name: fmt.Sprintf("%s,S=%d,W=%d:2,%s", base, size, size+size/40, flags),
		blob: blob, size: size, mtime: int64(t0) + int64(n)*37, ino: int64(a)*1e6 + int64(n),
		flags: flags, kwords: kw, uid: int64(n + 1), validFrom: int64(t0) + int64(n),
	}
}

func insert(stmt *sql.Stmt, it item) (int64, error) {
	res, err := stmt.Exec(it.account, it.folder, it.base, it.name, it.blob, it.size, it.mtime, it.ino, it.flags, it.kwords, it.uid, it.validFrom)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// allItems are the 100,000 initial rows.
var allItems = sync.OnceValue(func() []item {
	r := rand.New(rand.NewPCG(1, 2))
	items := make([]item, 0, accounts*perAccount)
	for n := range perAccount {
		for a := range accounts {
			items = append(items, genItem(r, a, n))
		}
	}
	return items
})

// insertAll inserts items in one transaction and returns their ids.
func insertAll(db *sql.DB, items []item) ([]int64, error) {
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(insertSQL)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		if ids[i], err = insert(stmt, it); err != nil {
			return nil, err
		}
	}
	stmt.Close()
	return ids, tx.Commit()
}

// storm closes the open rows ids[from:from+n] at time at and inserts their
// new versions (a flag change) in one transaction, replacing the ids.
func storm(db *sql.DB, ids []int64, from, n int, at int64) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	upd, err := tx.Prepare(`UPDATE items SET valid_to = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	// The new version copies the old row with other flags, as SmartScan
	// does when a message is renamed.
	ins, err := tx.Prepare(`INSERT INTO items (account_id, folder, base, name, blob, size, mtime, ino, flags, keywords, uid, valid_from, valid_to)
		SELECT account_id, folder, base, base || ':2,FS', blob, size, mtime, ino, 'FS', keywords, uid, ?, NULL FROM items WHERE id = ?`)
	if err != nil {
		return err
	}
	for k := range n {
		i := (from + k) % len(ids)
		if _, err := upd.Exec(at, ids[i]); err != nil {
			return err
		}
		res, err := ins.Exec(at, ids[i])
		if err != nil {
			return err
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return err
		}
	}
	upd.Close()
	ins.Close()
	return tx.Commit()
}

// template is a database with the 100,000 rows and historyRounds storms
// of 10,000 (written once, with mattn; the file format is the same for
// both drivers), the open ids, and the storm instants.
type template struct {
	path     string
	openIDs  []int64
	instants []int64
}

var tmplOnce sync.Once
var tmpl template
var tmplErr error

func getTemplate(b *testing.B) template {
	tmplOnce.Do(func() {
		dir, err := os.MkdirTemp("", "catalogbench")
		if err != nil {
			tmplErr = err
			return
		}
		tmpl.path = filepath.Join(dir, "template.db")
		db, err := sql.Open("sqlite3", "file:"+tmpl.path+"?_journal_mode=WAL&_synchronous=NORMAL")
		if err != nil {
			tmplErr = err
			return
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.Exec(schema); err != nil {
			tmplErr = err
			return
		}
		if tmpl.openIDs, err = insertAll(db, allItems()); err != nil {
			tmplErr = err
			return
		}
		r := rand.New(rand.NewPCG(3, 4))
		for round := range historyRounds {
			at := int64(t0) + 1e6*int64(round+1)
			tmpl.instants = append(tmpl.instants, at)
			if tmplErr = storm(db, tmpl.openIDs, r.IntN(len(tmpl.openIDs)), 10000, at); tmplErr != nil {
				return
			}
		}
		// Fold the WAL into the file, so that a copy of the one file is whole.
		if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			tmplErr = err
		}
	})
	if tmplErr != nil {
		b.Fatal(tmplErr)
	}
	return tmpl
}

// copyTemplate copies the template database into a fresh directory.
func copyTemplate(b *testing.B) (string, []int64) {
	t := getTemplate(b)
	path := filepath.Join(b.TempDir(), "catalog.db")
	src, err := os.Open(t.path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
	return path, append([]int64(nil), t.openIDs...)
}

// TestMain removes the template database after the benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if tmpl.path != "" {
		os.RemoveAll(filepath.Dir(tmpl.path))
	}
	os.Exit(code)
}

func each(b *testing.B, modes []string, fn func(b *testing.B, driver, syncMode string)) {
	for _, d := range drivers {
		for _, m := range modes {
			b.Run(fmt.Sprintf("driver=%s/sync=%s", d.name, m), func(b *testing.B) { fn(b, d.driver, m) })
		}
	}
}

// BenchmarkInsert100k inserts 100,000 rows in one transaction with a
// prepared statement, into a new database; the time includes the commit.
func BenchmarkInsert100k(b *testing.B) {
	items := allItems()
	each(b, syncModes, func(b *testing.B, driver, syncMode string) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := openDB(b, driver, filepath.Join(b.TempDir(), "catalog.db"), syncMode)
			if _, err := db.Exec(schema); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := insertAll(db, items); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// scanRows reads every column of every row, as the catalog does.
func scanRows(rows *sql.Rows) (int, error) {
	defer rows.Close()
	var (
		id, account, size, mtime, ino, uid, from int64
		folder, base, name, flags, kw            string
		blob                                     []byte
		to                                       sql.NullInt64
		n                                        int
	)
	for rows.Next() {
		if err := rows.Scan(&id, &account, &folder, &base, &name, &blob, &size, &mtime, &ino, &flags, &kw, &uid, &from, &to); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// BenchmarkLoadOpenAccount loads the 5,000 open rows of one account.
func BenchmarkLoadOpenAccount(b *testing.B) {
	each(b, syncModes[:1], func(b *testing.B, driver, syncMode string) {
		path, _ := copyTemplate(b)
		db := openDB(b, driver, path, syncMode)
		stmt, err := db.Prepare(`SELECT ` + columns + ` FROM items WHERE account_id = ? AND valid_to IS NULL`)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		b.ResetTimer()
		total := 0
		for i := 0; i < b.N; i++ {
			rows, err := stmt.Query(i % accounts)
			if err != nil {
				b.Fatal(err)
			}
			n, err := scanRows(rows)
			if err != nil {
				b.Fatal(err)
			}
			if n != perAccount {
				b.Fatalf("account %d: %d open rows, want %d", i%accounts, n, perAccount)
			}
			total += n
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkUpdateInsert10k closes 10,000 open rows and inserts their new
// versions in one transaction; the database grows by 10,000 rows an op.
func BenchmarkUpdateInsert10k(b *testing.B) {
	each(b, syncModes, func(b *testing.B, driver, syncMode string) {
		path, ids := copyTemplate(b)
		db := openDB(b, driver, path, syncMode)
		r := rand.New(rand.NewPCG(5, 6))
		at := int64(t0) + 1e7
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			at++
			if err := storm(db, ids, r.IntN(len(ids)), 10000, at); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkPointInTime loads the rows of one account valid at an instant
// between the template's storms.
func BenchmarkPointInTime(b *testing.B) {
	each(b, syncModes[:1], func(b *testing.B, driver, syncMode string) {
		path, _ := copyTemplate(b)
		instants := getTemplate(b).instants
		db := openDB(b, driver, path, syncMode)
		stmt, err := db.Prepare(`SELECT ` + columns + ` FROM items
			WHERE account_id = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)`)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		b.ResetTimer()
		total := 0
		for i := 0; i < b.N; i++ {
			at := instants[i%len(instants)] + 1 // just after a storm: some history
			rows, err := stmt.Query(i%accounts, at, at)
			if err != nil {
				b.Fatal(err)
			}
			n, err := scanRows(rows)
			if err != nil {
				b.Fatal(err)
			}
			if n != perAccount {
				b.Fatalf("account %d at %d: %d rows, want %d", i%accounts, at, n, perAccount)
			}
			total += n
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkCommitSmall is one transaction that closes one row and inserts
// its new version: the commit latency of the realtime scanner.
func BenchmarkCommitSmall(b *testing.B) {
	each(b, syncModes, func(b *testing.B, driver, syncMode string) {
		path, ids := copyTemplate(b)
		db := openDB(b, driver, path, syncMode)
		at := int64(t0) + 1e7
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			at++
			if err := storm(db, ids, i*7919, 1, at); err != nil {
				b.Fatal(err)
			}
		}
	})
}
