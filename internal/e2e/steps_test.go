package e2e

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	_ "github.com/mattn/go-sqlite3" // reading the agent's catalog for diagnostics
)

// steps describes an account's recorded history step by step (what
// started and ended at each instant), for the failure messages of the
// deletion tests: it shows how a removal reached the backup.
func (e *env) steps(account string) string {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, "backup", "catalog.db")+"?mode=ro")
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	type row struct {
		t    int64
		desc string
	}
	var rows []row
	for _, q := range []struct{ sql, what string }{
		{`SELECT i.valid_from, i.folder || ' ' || i.name || ' uid ' || i.uid FROM items i JOIN accounts a ON a.id = i.account_id WHERE a.name = ?`, "+item"},
		{`SELECT i.valid_to, i.folder || ' ' || i.name || ' uid ' || i.uid FROM items i JOIN accounts a ON a.id = i.account_id WHERE a.name = ? AND i.valid_to IS NOT NULL`, "-item"},
		{`SELECT valid_from, f.name || ' uidvalidity ' || uidvalidity || ' next ' || nextuid || ' guid ' || guid || ' kw ' || replace(keywords, char(10), ',') || ' mode ' || mode FROM folder_versions f JOIN accounts a ON a.id = f.account_id WHERE a.name = ?`, "+folder"},
		{`SELECT valid_to, f.name FROM folder_versions f JOIN accounts a ON a.id = f.account_id WHERE a.name = ? AND valid_to IS NOT NULL`, "-folder"},
		{`SELECT valid_from, 'subscriptions ' || length(subscriptions) || ' mode ' || mode FROM account_versions v JOIN accounts a ON a.id = v.account_id WHERE a.name = ?`, "+account"},
		{`SELECT valid_to, 'account' FROM account_versions v JOIN accounts a ON a.id = v.account_id WHERE a.name = ? AND valid_to IS NOT NULL`, "-account"},
	} {
		rs, err := db.Query(q.sql, account)
		if err != nil {
			return err.Error()
		}
		for rs.Next() {
			var r row
			var d sql.NullString
			if err := rs.Scan(&r.t, &d); err != nil {
				rs.Close()
				return err.Error()
			}
			r.desc = q.what + " " + d.String
			rows = append(rows, r)
		}
		rs.Close()
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].t < rows[j].t })
	var b strings.Builder
	last := int64(-1)
	n := 0
	for _, r := range rows {
		if r.t != last {
			fmt.Fprintf(&b, "step %d\n", r.t)
			last, n = r.t, 0
		}
		if n++; n <= 6 {
			fmt.Fprintf(&b, "  %s\n", r.desc)
		} else if n == 7 {
			b.WriteString("  ...\n")
		}
	}
	return b.String()
}
