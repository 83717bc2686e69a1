package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/maildir/location"
	"github.com/mailkeep/mailkeep/runtime/purge"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"

	"github.com/mailkeep/mailkeep/internal/bench/rusage"
)

// The measured mailkeep work runs in child processes of this program, so
// that each has its own peak RSS:
//
//	purgebench -child-scan REPO STORE_ROOT AT     one SmartScan at the instant AT
//	purgebench -child-purge REPO OPTIONS_JSON     one purge; prints the Result
//
// and every measured command (these and restic) is started through a
// fresh copy of this program in wrapper mode,
//
//	purgebench -rusage-wrap RESULT_FILE -- COMMAND ARGS...
//
// because on Linux a child that Go starts directly inherits the parent's
// high-water RSS at exec, and would report at least the harness's memory.

func childMain(args []string) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case rusage.Flag:
		return rusage.Main("purgebench", args[1:]), true
	case "-child-scan":
		return report(childScan(args[1:])), true
	case "-child-purge":
		return report(childPurge(args[1:])), true
	}
	return 0, false
}

func report(v any, err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "purgebench:", err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(v)
	return 0
}

func childScan(args []string) (any, error) {
	if len(args) != 3 {
		return nil, errors.New("usage: -child-scan REPO STORE_ROOT AT")
	}
	at, err := time.Parse(time.RFC3339Nano, args[2])
	if err != nil {
		return nil, err
	}
	ms, err := location.Parse("maildir:" + args[1] + "/%d/%n/Maildir")
	if err != nil {
		return nil, err
	}
	st, err := maildir.Open(ms)
	if err != nil {
		return nil, err
	}
	r, err := repo.Open(args[0], repo.Options{Create: true, Durable: true, Purpose: "purgebench scan"})
	if err != nil {
		return nil, err
	}
	res, err := scan.Run(context.Background(), r, st, scan.Options{Now: func() time.Time { return at }})
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return res, err
}

func childPurge(args []string) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("usage: -child-purge REPO OPTIONS_JSON")
	}
	var opts purge.Options
	if err := json.Unmarshal([]byte(args[1]), &opts); err != nil {
		return nil, err
	}
	r, err := repo.Open(args[0], repo.Options{Durable: true, Purpose: "purgebench purge"})
	if err != nil {
		return nil, err
	}
	// PURGEBENCH_CPUPROFILE=FILE profiles the purge (not the timed runs).
	if path := os.Getenv("PURGEBENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	res, err := purge.Run(context.Background(), r, opts)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return res, err
}
