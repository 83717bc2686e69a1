package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailkeep/mailkeep/internal/bench/rusage"
)

// measured is what one command cost.
type measured struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`
	MaxRSS int64         `json:"max_rss_bytes"`
	Stdout []byte        `json:"-"`
}

var seq atomic.Int64

// run runs a command through the wrapper and measures it.
func run(env []string, name string, args ...string) (*measured, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	result := filepath.Join(os.TempDir(), fmt.Sprintf("purgebench-%d-%d.json", os.Getpid(), seq.Add(1)))
	defer os.Remove(result)
	cmd := exec.Command(self, append([]string{rusage.Flag, result, "--", name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(stderr.String()))
	}
	w, err := rusage.Read(result)
	if err != nil {
		return nil, err
	}
	return &measured{Wall: w.Wall, CPU: w.CPU, MaxRSS: w.MaxRSS, Stdout: stdout.Bytes()}, nil
}

func tail(s string) string {
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return strings.TrimSpace(s)
}

// copyTree copies a directory with cp -a.
func copyTree(src, dst string) error {
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}

// duBytes is the size of the regular files under dir.
func duBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// dropCaches empties the page cache when it can (root); it reports
// whether it did.
func dropCaches() bool {
	if os.Geteuid() != 0 {
		return false
	}
	exec.Command("sync").Run()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200) == nil
}

func mb(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB" }
