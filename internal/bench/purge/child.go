package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/runtime/maildir"
	"github.com/mailkeep/mailkeep/runtime/purge"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/scan"
	"github.com/mailkeep/mailkeep/schema"
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
	case "-rusage-wrap":
		return wrapMain(args[1:]), true
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
	ms, err := schema.ParseMailStore("maildir:" + args[1] + "/%d/%n/Maildir")
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

// wrapResult is what the wrapper reports about the command it ran.
type wrapResult struct {
	MaxRSS int64         `json:"max_rss_bytes"`
	CPU    time.Duration `json:"cpu_ns"`
	Wall   time.Duration `json:"wall_ns"`
}

// wrapMain runs COMMAND, waits for it and writes its own rusage to
// RESULT_FILE; it exits with the command's status.
func wrapMain(args []string) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, "purgebench: usage: -rusage-wrap RESULT -- COMMAND [ARGS...]")
		return 2
	}
	result, name, rest := args[0], args[2], args[3:]
	cmd := exec.Command(name, rest...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "purgebench: starting %s: %v\n", name, err)
		return 127
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	ps := cmd.ProcessState
	if ps == nil {
		fmt.Fprintf(os.Stderr, "purgebench: waiting for %s: %v\n", name, err)
		return 127
	}
	w := wrapResult{Wall: wall, CPU: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
		w.MaxRSS = ru.Maxrss * 1024
	}
	b, _ := json.Marshal(w)
	if werr := os.WriteFile(result, b, 0o644); werr != nil {
		fmt.Fprintf(os.Stderr, "purgebench: %v\n", werr)
		return 125
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}
