package agent_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent"
)

// serveOnce runs Serve until its listener is open, calls ready (when not
// nil) with the address, and stops it; it returns Serve's error.
func serveOnce(t *testing.T, a *agent.Agent, opts agent.ServeOptions, ready func(net.Addr)) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.Ready = func(addr net.Addr) {
		if ready != nil {
			ready(addr)
		}
		cancel()
	}
	return a.Serve(ctx, opts)
}

// -listen unix:///PATH removes only a stale socket at PATH; a regular
// file, a directory, a symlink and the live socket of another agent are
// left in place and the agent refuses to start, saying what is there.
func TestListenRemovesOnlyAStaleSocket(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"regular file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "a regular file"},
		{"empty directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "a directory"},
		{"symlink", func(t *testing.T, path string) {
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "target"), path); err != nil {
				t.Fatal(err)
			}
		}, "a symbolic link"},
		{"live socket of another agent", func(t *testing.T, path string) {
			other := startAgent(t)
			ctx, cancel := context.WithCancel(context.Background())
			up, done := make(chan struct{}), make(chan error, 1)
			go func() {
				done <- other.a.Serve(ctx, agent.ServeOptions{Listen: "unix://" + path, Ready: func(net.Addr) { close(up) }})
			}()
			select {
			case <-up:
			case err := <-done:
				t.Fatalf("the other agent: %v", err)
			}
			t.Cleanup(func() {
				// The other agent still answers once the refused one gave up.
				c, err := net.Dial("unix", path)
				if err != nil {
					t.Errorf("the other agent's socket after the refusal: %v", err)
				} else {
					c.Close()
				}
				cancel()
				<-done
			})
		}, "another agent is listening"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.sock")
			tc.make(t, path)
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			err = serveOnce(t, startAgent(t).a, agent.ServeOptions{Listen: "unix://" + path}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Serve: %v, want a refusal naming %s and saying %q", err, path, tc.want)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) {
				t.Errorf("what was at %s was removed or replaced (%v)", path, err)
			}
		})
	}
	t.Run("stale socket", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "agent.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close() // a crashed agent's socket: nobody answers on it
		var dialErr error
		err = serveOnce(t, startAgent(t).a, agent.ServeOptions{Listen: "unix://" + path}, func(net.Addr) {
			var c net.Conn
			if c, dialErr = net.Dial("unix", path); dialErr == nil {
				c.Close()
			}
		})
		if err != nil || dialErr != nil {
			t.Errorf("over a stale socket: Serve %v, dialling the new socket %v", err, dialErr)
		}
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("the agent left its socket behind when it stopped (%v)", err)
		}
	})
}
