package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mailkeep/mailkeep/runtime/fsutil"
	"github.com/mailkeep/mailkeep/runtime/secret"
)

// ServeOptions say where and how the API listens.
type ServeOptions struct {
	// Listen is unix:///path, tcp://host:port or host:port.
	Listen string
	// TokenFile holds the token clients must present; required on TCP.
	TokenFile string
	// TLSCert and TLSKey enable HTTPS on TCP.
	TLSCert, TLSKey string
	// Ready, when set, is called once the listener is open and served:
	// requests it makes are answered.
	Ready func(addr net.Addr)
}

// Serve runs the API until ctx is cancelled (SIGTERM), then stops taking
// requests, cancels running operations (a SmartScan keeps every account it
// finished) and closes the agent. Options the rules of package secret
// refuse, or a listener that cannot be opened, close the agent too.
func (a *Agent) Serve(ctx context.Context, opts ServeOptions) error {
	lc, err := opts.check()
	if err == nil {
		var ln net.Listener
		if ln, err = listen(lc.network, lc.address); err == nil {
			return a.serve(ctx, opts, lc, ln)
		}
	}
	a.Close()
	return err
}

// Check applies to the options the rules Serve applies (see check), so
// that a command can refuse them before it starts an agent.
func (opts ServeOptions) Check() error {
	_, err := opts.check()
	return err
}

// serve serves the API on ln until ctx is cancelled.
func (a *Agent) serve(ctx context.Context, opts ServeOptions, lc *listenConfig, ln net.Listener) error {
	srv := &http.Server{Handler: a.Handler(lc.token), ReadHeaderTimeout: 10 * time.Second, TLSConfig: lc.tls}
	a.log.Info("agent listening", "address", opts.Listen, "tls", lc.tls != nil, "token", lc.token != "")
	errc := make(chan error, 1)
	go func() {
		if lc.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	select {
	case err := <-errc:
		a.Close()
		return fmt.Errorf("serving %s: %w", opts.Listen, err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: stopping running operations")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	// Shutdown closes only the listeners Serve has taken: close this one
	// (a unix socket is removed) and wait for Serve, which may not have
	// started yet.
	ln.Close()
	<-errc
	// Closing a unix listener removes its socket.
	err := a.Close()
	a.log.Info("agent stopped")
	return err
}

// ParseListen splits a -listen value into a network and an address.
func ParseListen(s string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(s, "unix://"):
		p := strings.TrimPrefix(s, "unix://")
		if !filepath.IsAbs(p) {
			return "", "", fmt.Errorf("-listen %q: a unix socket address is unix:///absolute/path", s)
		}
		return "unix", p, nil
	case strings.HasPrefix(s, "tcp://"):
		s = strings.TrimPrefix(s, "tcp://")
	case strings.Contains(s, "://"):
		return "", "", fmt.Errorf("-listen %q: use unix:///path, tcp://host:port or host:port", s)
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return "", "", fmt.Errorf("-listen %q: %v", s, err)
	}
	return "tcp", s, nil
}

// listen opens the listener. A unix socket is private to the agent (mode
// 0600, in a directory created 0700 when missing): it is bound under umask
// 077, so that no one else can connect before its mode is set.
func listen(network, address string) (net.Listener, error) {
	if network == "unix" {
		if err := prepareSocketPath(address); err != nil {
			return nil, err
		}
	}
	var ln net.Listener
	var err error
	if network == "unix" {
		// The umask is the process's: it only takes bits off what other
		// goroutines create meanwhile, all of which sets its modes.
		old := syscall.Umask(0o077)
		ln, err = net.Listen(network, address)
		syscall.Umask(old)
	} else {
		ln, err = net.Listen(network, address)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", address, err)
	}
	if network == "unix" {
		if err := os.Chmod(address, 0o600); err != nil {
			ln.Close()
			return nil, fmt.Errorf("setting permissions on %s: %w", address, err)
		}
	}
	return ln, nil
}

// prepareSocketPath creates the socket's directory when missing and
// clears the way for the socket: the path must be free or hold a stale
// socket (one nobody answers on, left by a crash), which is removed. A
// live socket, and anything that is not a socket, is left alone and
// refused: the agent runs as root and must not delete what it did not
// make.
func prepareSocketPath(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the socket directory: %w", err)
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("-listen: %w", err)
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("-listen: %s exists and is %s, not a socket: the agent removes only a stale socket of its own; move it away or choose another path", path, fsutil.Kind(fi.Mode()))
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("another agent is listening on %s", path)
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("-listen: %s is a socket the agent cannot tell stale (%v): remove it if no agent uses it", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("-listen: removing the stale socket: %w", err)
	}
	return nil
}

// listenConfig is what Serve listens with, once the options passed the
// rules of package secret.
type listenConfig struct {
	network, address string
	// token is "" on a unix socket without -token-file.
	token string
	// tls is nil without -tls-cert and -tls-key.
	tls *tls.Config
}

// check applies the rules of package secret to the options (docs/API.md,
// "Listeners and secrets"): plain TCP only on a loopback address, a token
// on TCP, tokens of at least secret.MinTokenLen bytes, and a token file
// and TLS key readable by their owner only. It reads the token and the
// key pair.
func (opts ServeOptions) check() (*listenConfig, error) {
	network, address, err := ParseListen(opts.Listen)
	if err != nil {
		return nil, err
	}
	lc := &listenConfig{network: network, address: address}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if network == "unix" && opts.TLSCert != "" {
		return nil, errors.New("TLS is for TCP listeners; a unix socket is protected by its file permissions")
	}
	if err := secret.CheckListen(network, address, opts.TLSCert != "", "-listen "+opts.Listen); err != nil {
		return nil, err
	}
	if opts.TokenFile != "" {
		if lc.token, err = secret.ReadToken(opts.TokenFile); err != nil {
			return nil, fmt.Errorf("-token-file: %w", err)
		}
	}
	if network == "tcp" && lc.token == "" {
		return nil, fmt.Errorf("listening on TCP (%s) requires a token: start the agent with -token-file", address)
	}
	if opts.TLSCert != "" {
		cert, err := os.ReadFile(opts.TLSCert)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert: %w", err)
		}
		key, err := secret.ReadFile(opts.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("-tls-key: %w", err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert %s and -tls-key %s: %w", opts.TLSCert, opts.TLSKey, err)
		}
		lc.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return lc, nil
}
