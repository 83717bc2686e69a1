// Command mkcorpus generates a deterministic Dovecot-style Maildir store
// (see package github.com/mailkeep/mailkeep/internal/corpus) from the shell,
// for benchmarks and the demo:
//
//	go run ./internal/corpus/cmd/mkcorpus -root /tmp/vmail -seed 1 -accounts 20 -messages 100000
//
// The store lands in ROOT/<domain>/<user>/Maildir, i.e. mail_location =
// maildir:ROOT/%d/%n/Maildir. A summary goes to stderr; -json prints the
// statistics (per account too) to stdout.
//
// With any of -rename-flags, -deliver, -move or -delete, mkcorpus changes the
// existing store under ROOT instead (in that order, each with -seed), as the
// corpus package's mutation helpers do; -verify checks that every
// dovecot-uidlist matches its folder's files:
//
//	mkcorpus -root /tmp/vmail -seed 2 -rename-flags 0.1 -verify
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/internal/corpus"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkcorpus:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkcorpus", flag.ContinueOnError)
	var (
		root     = fs.String("root", "", "directory to write the store into (required)")
		seed     = fs.Int64("seed", 1, "corpus seed")
		accounts = fs.Int("accounts", 10, "number of accounts")
		messages = fs.Int("messages", 1000, "total number of messages, shared copies included")
		domains  = fs.String("domains", "", "comma-separated domains (default example.com,example.org)")
		folders  = fs.Int("folders", 0, "folders per account besides INBOX (default 8; -1: INBOX only)")
		shared   = fs.Float64("shared", 0, "share of messages that are mailing-list copies in several accounts (default 0.05; -1: none)")
		maxSize  = fs.Int64("max-size", 0, "largest message in bytes (default 4 MiB)")
		owner    = fs.String("owner", "", "UID:GID to give every file and directory (needs root)")
		asJSON   = fs.Bool("json", false, "print the statistics as JSON on stdout")
		rename   = fs.Float64("rename-flags", 0, "mutate: change the flags of this fraction of the messages")
		deliver  = fs.Int("deliver", 0, "mutate: deliver this many new messages")
		move     = fs.Float64("move", 0, "mutate: move this fraction of the messages to another folder")
		del      = fs.Float64("delete", 0, "mutate: delete this fraction of the messages")
		verify   = fs.Bool("verify", false, "check that every dovecot-uidlist matches its folder")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mkcorpus -root DIR [flags]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if *root == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("-root is required and no arguments are accepted")
	}
	if *rename > 0 || *deliver > 0 || *move > 0 || *del > 0 || *verify {
		return mutate(*root, *seed, *rename, *deliver, *move, *del, *verify)
	}
	opts := corpus.Options{
		Seed: *seed, Accounts: *accounts, Messages: *messages,
		FoldersPerAccount: *folders, SharedFraction: *shared, MaxSize: *maxSize,
	}
	if *domains != "" {
		opts.Domains = strings.Split(*domains, ",")
	}
	if *owner != "" {
		u, g, ok := strings.Cut(*owner, ":")
		uid, err1 := strconv.Atoi(u)
		gid, err2 := strconv.Atoi(g)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("-owner %q: want numeric UID:GID", *owner)
		}
		opts.Owner = &corpus.Owner{UID: uid, GID: gid}
	}
	start := time.Now()
	st, err := corpus.Generate(*root, opts)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stderr, "mkcorpus: %d accounts, %d folders, %d messages, %.1f MiB in %s (%.2fs)\n",
		st.Accounts, st.Folders, st.Messages, float64(st.Bytes)/(1<<20), *root, elapsed.Seconds())
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return nil
}

func mutate(root string, seed int64, rename float64, deliver int, move, del float64, verify bool) error {
	if _, err := os.Stat(root); err != nil {
		return err
	}
	steps := []struct {
		name string
		on   bool
		run  func() (int, error)
	}{
		{"renamed", rename > 0, func() (int, error) { return corpus.RenameFlags(root, rename, seed) }},
		{"delivered", deliver > 0, func() (int, error) { return corpus.Deliver(root, deliver, seed) }},
		{"moved", move > 0, func() (int, error) { return corpus.Move(root, move, seed) }},
		{"deleted", del > 0, func() (int, error) { return corpus.Delete(root, del, seed) }},
	}
	for _, s := range steps {
		if !s.on {
			continue
		}
		start := time.Now()
		n, err := s.run()
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "mkcorpus: %s %d messages in %.2fs\n", s.name, n, time.Since(start).Seconds())
	}
	if verify {
		if err := corpus.Verify(root); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		fmt.Fprintln(os.Stderr, "mkcorpus: every dovecot-uidlist matches its folder")
	}
	return nil
}
