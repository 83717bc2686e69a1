package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/schema"
)

// With accounts larger than the read-ahead bound, accounts are taken one
// at a time, and the result is the same.
func TestLargeAccountsOneAtATime(t *testing.T) {
	old := aheadItems
	aheadItems = 1
	defer func() { aheadItems = old }()
	root := t.TempDir()
	for a := range 5 {
		dir := filepath.Join(root, "vmail", "example.org", fmt.Sprintf("user%d", a), "Maildir")
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		for m := range 3 {
			name := filepath.Join(dir, "cur", fmt.Sprintf("%d.M%dP1.host:2,", 1000+m, a))
			if err := os.WriteFile(name, []byte(fmt.Sprintf("message %d of %d", m, a)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	ms, err := schema.ParseMailStore("maildir:" + root + "/vmail/%d/%n/Maildir")
	if err != nil {
		t.Fatal(err)
	}
	st, err := maildir.Open(ms)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(filepath.Join(root, "backup"), repo.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for round, want := range []int64{15, 0} {
		res, err := Run(context.Background(), r, st, Options{})
		if err != nil || len(res.Errors) != 0 || res.Accounts != 5 || res.New != want || res.Items != 15 {
			t.Fatalf("scan %d: %v, errors %q, %d accounts, %d new of %d items; want 5 accounts, %d new of 15",
				round+1, err, res.Errors, res.Accounts, res.New, res.Items, want)
		}
	}
}
