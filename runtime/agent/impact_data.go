package agent

import (
	"fmt"
	"sort"

	"github.com/mailkeep/mailkeep/runtime/agent/impact"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	mslocation "github.com/mailkeep/mailkeep/runtime/maildir/location"
)

// engineData reads an engine's catalog and store for the impact rules
// (impact.Data).
type engineData struct{ e *engine }

func (d *engineData) Current() ([]impact.Amount, error) {
	cat, err := d.e.repo.Catalog.CurrentAccounts()
	if err != nil {
		return nil, err
	}
	cur := amounts(cat)
	known := map[string]bool{}
	for _, a := range cur {
		known[a.Name] = true
	}
	accts, err := d.e.store.Accounts()
	if err != nil {
		return nil, fmt.Errorf("listing the mail store's accounts: %w", err)
	}
	for _, a := range accts {
		if !known[a.Name] {
			cur = append(cur, impact.Amount{Name: a.Name})
		}
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].Name < cur[j].Name })
	return cur, nil
}

func (d *engineData) Ended(from, to int64) ([]impact.Amount, error) {
	cat, err := d.e.repo.Catalog.EndedItems(from, to)
	return amounts(cat), err
}

func (d *engineData) Deleted(from, to int64) ([]impact.Amount, error) {
	cat, err := d.e.repo.Catalog.DeletedAccounts(from, to)
	return amounts(cat), err
}

func (d *engineData) StoreAccounts(ms string) ([]string, error) {
	parsed, err := mslocation.Parse(ms)
	if err != nil {
		return nil, err
	}
	st, err := maildir.Open(parsed)
	if err != nil {
		return nil, err
	}
	accts, err := st.Accounts()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(accts))
	for i, a := range accts {
		names[i] = a.Name
	}
	return names, nil
}

// amounts converts the catalog's per-account amounts.
func amounts(in []catalog.AccountAmount) []impact.Amount {
	if in == nil {
		return nil
	}
	out := make([]impact.Amount, len(in))
	for i, a := range in {
		out[i] = impact.Amount{Name: a.Name, Items: a.Items, Bytes: a.Bytes}
	}
	return out
}
