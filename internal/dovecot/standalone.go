package dovecot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Installed reports whether the dovecot and doveadm binaries are present;
// the error says what is missing and how to install it.
func Installed() error {
	_, _, err := binaries()
	return err
}

// StartStandalone starts a Dovecot outside of a test (make demo) with its
// configuration, passwd file, logs and mail under dir, which must exist
// and is made searchable by Dovecot's unprivileged processes (mode 0755).
// It is configured as Start configures a test server. The caller stops it
// with Close and removes dir. It must run as root.
func StartStandalone(dir string, opts Options) (*Server, error) {
	s := &Server{users: opts.Users, dir: dir}
	if s.users == nil {
		s.users = DefaultUsers
	}
	var err error
	if s.dovecotBin, s.doveadm, err = binaries(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("starting Dovecot needs root (its master switches to the mail user %s itself); running as uid %d", MailUser, os.Geteuid())
	}
	if s.uid, s.gid, err = mailUser(); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if err := checkSearchable(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	if s.baseDir, err = os.MkdirTemp(shortTempRoot(), "mkdc-"); err != nil {
		return nil, err
	}
	if err := os.Chmod(s.baseDir, 0o755); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(opts); err != nil {
		s.Close()
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err := s.start(opts)
		if err == nil {
			return s, nil
		}
		s.Stop()
		logs := s.logs()
		if attempt < 3 && strings.Contains(logs, "Address already in use") {
			s.stopOnce = sync.Once{}
			continue
		}
		os.RemoveAll(s.baseDir)
		return nil, fmt.Errorf("starting %s -F -c %s: %v\ndovecot log:\n%s", s.dovecotBin, s.conf, err, logs)
	}
}

// checkSearchable checks that every directory from dir up to the root can
// be traversed by other users, without changing any.
func checkSearchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users, so Dovecot's unprivileged processes cannot reach the mail under it; use a directory such as /tmp", d)
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// Close stops a server started by StartStandalone and removes its
// base_dir (sockets); the caller removes the directory it gave.
func (s *Server) Close() error {
	s.Stop()
	if s.baseDir == "" {
		return errors.New("dovecot: no server")
	}
	return os.RemoveAll(s.baseDir)
}

// Logs returns Dovecot's log and its standard output and error.
func (s *Server) Logs() string { return s.logs() }
