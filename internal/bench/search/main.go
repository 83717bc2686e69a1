// Command searchbench measures `mailkeep backup search` on a large
// account (issue 10: "a search over a 100,000-message account answers in
// well under a second"):
//
//	go run ./internal/bench/search -messages 100000 -dir /tmp/searchbench
//
// It generates one account with internal/corpus (seed fixed), backs it up
// with SmartScan, renames 10% of the messages as flag changes and deletes
// 5%, backs it up again (so the history holds several versions and
// deleted messages), then runs each query of a fixed set -runs times
// through catalog.Search, as the agent's search route does, and prints the
// median and the slowest wall time, the median CPU time (user and system)
// and the number of messages found. With
// -dir, the store and repository are kept there and reused by the next
// run with the same -messages.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "searchbench:", err)
		os.Exit(1)
	}
}

func run() error {
	messages := flag.Int("messages", 100000, "messages in the account")
	runs := flag.Int("runs", 5, "runs of every query; the median is reported")
	dir := flag.String("dir", "", "keep the store and repository here and reuse them (default: a temporary directory)")
	flag.Parse()
	work := *dir
	if work == "" {
		tmp, err := os.MkdirTemp("", "searchbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	work = filepath.Join(work, fmt.Sprint(*messages))
	r, account, err := prepare(work, *messages)
	if err != nil {
		return err
	}
	defer r.Close()
	cat := r.Catalog
	st, err := cat.Stats(account)
	if err != nil {
		return err
	}
	fmt.Printf("account %s: %d current messages, %d item versions\n", account, st[0].Items, st[0].Versions)

	// Values to search for, taken from the account itself.
	all, err := cat.Search(account, catalog.SearchQuery{})
	if err != nil {
		return err
	}
	mid := all.Messages[len(all.Messages)/2]
	sender := mid.Headers.From
	if i := strings.IndexByte(sender, '<'); i >= 0 {
		sender = strings.Trim(sender[i:], "<>")
	}
	word := strings.Fields(mid.Headers.Subject)[0]
	since := mid.Item.MTime
	queries := []struct {
		name string
		q    catalog.SearchQuery
	}{
		{"whole history, no filter", catalog.SearchQuery{}},
		{"sender address", catalog.SearchQuery{Sender: sender}},
		{"sender, no match", catalog.SearchQuery{Sender: "nobody-at-all@nowhere.invalid"}},
		{"subject word " + fmt.Sprintf("%q", word), catalog.SearchQuery{Subject: word}},
		{"message-id", catalog.SearchQuery{MessageID: mid.Headers.MessageID}},
		{"recipient and since", catalog.SearchQuery{Recipient: "example", Since: since}},
		{"deleted", catalog.SearchQuery{Deleted: true}},
		{"folder INBOX, subject", catalog.SearchQuery{Folder: "INBOX", Subject: word}},
		{"at an instant, sender", catalog.SearchQuery{At: st[0].LastBackup, Sender: sender}},
		{"at an instant, deleted", catalog.SearchQuery{At: st[0].FirstBackup, Deleted: true}},
	}
	fmt.Printf("%-40s %10s %10s %10s %8s\n", "query", "median", "slowest", "cpu", "found")
	for _, qc := range queries {
		var times, cpus []time.Duration
		var found int
		for range *runs {
			start, startCPU := time.Now(), cpuTime()
			res, err := cat.Search(account, qc.q)
			if err != nil {
				return fmt.Errorf("%s: %w", qc.name, err)
			}
			times, cpus = append(times, time.Since(start)), append(cpus, cpuTime()-startCPU)
			found = len(res.Messages)
		}
		slices.Sort(times)
		slices.Sort(cpus)
		fmt.Printf("%-40s %10s %10s %10s %8d\n", qc.name, times[len(times)/2].Round(time.Millisecond),
			times[len(times)-1].Round(time.Millisecond), cpus[len(cpus)/2].Round(time.Millisecond), found)
	}
	return nil
}

// prepare generates and backs up the account, or reopens the one a
// previous run left in work.
func prepare(work string, messages int) (*repo.Repo, string, error) {
	root, backup := filepath.Join(work, "vmail"), filepath.Join(work, "backup")
	fresh := false
	if _, err := os.Stat(filepath.Join(work, "done")); err != nil {
		os.RemoveAll(work)
		fmt.Printf("generating %d messages in one account and backing them up...\n", messages)
		if _, err := corpus.Generate(root, corpus.Options{Seed: 1, Accounts: 1, Messages: messages, MaxSize: 16 << 10}); err != nil {
			return nil, "", err
		}
		fresh = true
	}
	ms, err := location.Parse("maildir:" + root + "/%d/%n/Maildir")
	if err != nil {
		return nil, "", err
	}
	st, err := maildir.Open(ms)
	if err != nil {
		return nil, "", err
	}
	r, err := repo.Open(backup, repo.Options{Create: true})
	if err != nil {
		return nil, "", err
	}
	accounts, err := st.Accounts()
	if err != nil || len(accounts) != 1 {
		r.Close()
		return nil, "", fmt.Errorf("store %s: %d accounts (%v)", root, len(accounts), err)
	}
	if fresh {
		start := time.Now()
		if _, err := scan.Run(context.Background(), r, st, scan.Options{}); err != nil {
			r.Close()
			return nil, "", err
		}
		fmt.Printf("initial backup: %s\n", time.Since(start).Round(time.Millisecond))
		if _, err := corpus.RenameFlags(root, 0.1, 1); err != nil {
			return nil, "", err
		}
		if _, err := corpus.Delete(root, 0.05, 1); err != nil {
			return nil, "", err
		}
		// A later instant, so that the second backup's versions start after
		// the first's.
		later := func() time.Time { return time.Now().Add(time.Minute) }
		if _, err := scan.Run(context.Background(), r, st, scan.Options{Now: later}); err != nil {
			r.Close()
			return nil, "", err
		}
		if err := os.WriteFile(filepath.Join(work, "done"), nil, 0o600); err != nil {
			return nil, "", err
		}
	}
	return r, accounts[0].Name, nil
}

// cpuTime is the process's user and system CPU time: the median CPU time
// of a query says what it costs on an idle machine, whatever else the
// machine runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
