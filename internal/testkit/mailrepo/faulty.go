package mailrepo

import (
	"path/filepath"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/pack/faultbackend"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// Faulty closes r and opens its repository again with opts, its packs (the
// same files) behind a fault-injecting backend seeded with seed.
func Faulty(t testing.TB, r *repo.Repo, seed uint64, opts repo.Options) (*repo.Repo, *faultbackend.Backend) {
	t.Helper()
	path := r.Path
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	local, err := pack.NewLocal(filepath.Join(path, repo.PacksDir), pack.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fb := faultbackend.New(local, seed)
	opts.PackBackend = fb
	if r, err = repo.Open(path, opts); err != nil {
		t.Fatal(err)
	}
	return r, fb
}
