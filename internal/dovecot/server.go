package dovecot

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// User is a mail account of a test server.
type User struct {
	// Name is the login, "user@domain".
	Name string
	// Password is the plaintext password.
	Password string
}

// DefaultUsers are the accounts of a server started without Options.Users.
var DefaultUsers = []User{
	{Name: "alice@example.com", Password: "alice-secret"},
	{Name: "bob@example.com", Password: "bob-secret"},
	{Name: "carol@example.org", Password: "carol-secret"},
	{Name: "restored@example.com", Password: "restored-secret"},
}

// Options shape a test server.
type Options struct {
	// Users are the accounts, "user@domain"; nil means DefaultUsers.
	Users []User
	// Layout is "" (Maildir++) or "fs" (LAYOUT=fs).
	Layout string
	// Control moves dovecot-uidlist, dovecot-keywords and subscriptions
	// to <tmp>/control/%d/%n (CONTROL=).
	Control bool
	// Index moves the index files to <tmp>/index/%d/%n (INDEX=).
	Index bool
	// Debug turns on mail_debug and auth_debug.
	Debug bool
	// ExtraConfig is appended to dovecot.conf.
	ExtraConfig string
}

// Server is a running Dovecot started by Start.
type Server struct {
	dir, baseDir, conf  string
	logPath, outPath    string
	vmail               string
	location            string
	users               []User
	uid, gid            uint32
	imapAddr, lmtpAddr  string
	dovecotBin, doveadm string

	cmd      *exec.Cmd
	done     chan struct{} // closed when the master process exited
	stopOnce sync.Once
}

// startTimeout bounds how long Start waits for IMAP and LMTP to answer.
const startTimeout = 20 * time.Second

// Start starts a Dovecot for the test and stops it in t.Cleanup. It fails
// the test (never skips) when Dovecot is not installed, the test does not
// run as root, or the server does not come up; the failure message
// carries Dovecot's log.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{users: opts.Users}
	if s.users == nil {
		s.users = DefaultUsers
	}
	var err error
	if s.dovecotBin, s.doveadm, err = binaries(); err != nil {
		t.Fatalf("internal/dovecot: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("internal/dovecot: tests that start Dovecot must run as root (the Dovecot master switches to the mail user %s itself); running as uid %d", MailUser, os.Geteuid())
	}
	if s.uid, s.gid, err = mailUser(); err != nil {
		t.Fatalf("internal/dovecot: %v", err)
	}
	s.dir = t.TempDir()
	if err := makeSearchable(s.dir); err != nil {
		t.Fatalf("internal/dovecot: %v", err)
	}
	// Unix socket paths are limited to 108 bytes: keep base_dir short.
	if s.baseDir, err = os.MkdirTemp(shortTempRoot(), "mkdc-"); err != nil {
		t.Fatalf("internal/dovecot: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(s.baseDir) })
	if err := os.Chmod(s.baseDir, 0o755); err != nil { // as Dovecot wants it
		t.Fatalf("internal/dovecot: %v", err)
	}
	if err := s.prepare(opts); err != nil {
		t.Fatalf("internal/dovecot: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dovecot log (%s):\n%s", s.logPath, s.logs())
		}
	})
	for attempt := 1; ; attempt++ {
		err := s.start(opts)
		if err == nil {
			break
		}
		s.Stop()
		logs := s.logs()
		if attempt < 3 && strings.Contains(logs, "Address already in use") {
			t.Logf("internal/dovecot: a port was taken meanwhile, retrying: %v", err)
			s.stopOnce = sync.Once{}
			continue
		}
		t.Fatalf("internal/dovecot: starting %s -F -c %s: %v\ndovecot log:\n%s", s.dovecotBin, s.conf, err, logs)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// binaries finds dovecot and doveadm.
func binaries() (dovecot, doveadm string, err error) {
	find := func(name, fallback string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if _, err := os.Stat(fallback); err == nil {
			return fallback
		}
		return ""
	}
	dovecot, doveadm = find("dovecot", "/usr/sbin/dovecot"), find("doveadm", "/usr/bin/doveadm")
	if dovecot == "" || doveadm == "" {
		return "", "", errors.New("Dovecot is not installed (dovecot and doveadm not found): run .ci/deps, which installs the Debian packages dovecot-core, dovecot-imapd and dovecot-lmtpd")
	}
	return dovecot, doveadm, nil
}

// shortTempRoot is a temporary directory with a short path.
func shortTempRoot() string {
	if d := os.TempDir(); len(d) <= 24 {
		return d
	}
	return "/tmp"
}

// makeSearchable opens the test directory and its parent (both made by
// the testing package, mode 0700) to Dovecot's unprivileged processes, and
// checks the directories above.
func makeSearchable(dir string) error {
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	for d := filepath.Dir(filepath.Dir(dir)); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users, so Dovecot's unprivileged processes cannot reach the test directory %s; set TMPDIR to a directory such as /tmp", d, dir)
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// prepare writes the passwd file and the mail directories.
func (s *Server) prepare(opts Options) error {
	s.vmail = filepath.Join(s.dir, "vmail")
	s.location = "maildir:" + s.vmail + "/%d/%n/Maildir"
	dirs := []string{s.vmail}
	if opts.Layout != "" {
		s.location += ":LAYOUT=" + opts.Layout
	}
	if opts.Control {
		dirs = append(dirs, filepath.Join(s.dir, "control"))
		s.location += ":CONTROL=" + filepath.Join(s.dir, "control") + "/%d/%n"
	}
	if opts.Index {
		dirs = append(dirs, filepath.Join(s.dir, "index"))
		s.location += ":INDEX=" + filepath.Join(s.dir, "index") + "/%d/%n"
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o750); err != nil {
			return err
		}
		if err := os.Chown(d, int(s.uid), int(s.gid)); err != nil {
			return err
		}
	}
	var passwd strings.Builder
	for _, u := range s.users {
		user, domain, ok := strings.Cut(u.Name, "@")
		if !ok || user == "" || domain == "" || strings.ContainsAny(u.Name, ":/\n") || strings.ContainsAny(u.Password, ":\n") {
			return fmt.Errorf("test user %q: names are user@domain, and neither name nor password may contain ':' or a newline", u.Name)
		}
		passwd.WriteString(passwdLine(u, s.uid, s.gid, filepath.Join(s.vmail, domain, user)))
	}
	return os.WriteFile(filepath.Join(s.dir, "passwd"), []byte(passwd.String()), 0o644)
}

// start writes the configuration with fresh ports and starts the master.
func (s *Server) start(opts Options) error {
	imapPort, err := freePort()
	if err != nil {
		return err
	}
	lmtpPort, err := freePort()
	if err != nil {
		return err
	}
	s.imapAddr = fmt.Sprintf("127.0.0.1:%d", imapPort)
	s.lmtpAddr = fmt.Sprintf("127.0.0.1:%d", lmtpPort)
	s.logPath = filepath.Join(s.dir, "dovecot.log")
	s.outPath = filepath.Join(s.dir, "dovecot.out")
	conf, err := renderConf(confData{
		BaseDir:      s.baseDir,
		StateDir:     filepath.Join(s.dir, "state"),
		Instance:     "mailkeep-test-" + filepath.Base(s.baseDir),
		LogPath:      s.logPath,
		MailLocation: s.location,
		PasswdPath:   filepath.Join(s.dir, "passwd"),
		UID:          s.uid,
		GID:          s.gid,
		IMAPPort:     imapPort,
		LMTPPort:     lmtpPort,
		Debug:        opts.Debug,
		Extra:        opts.ExtraConfig,
	})
	if err != nil {
		return err
	}
	s.conf = filepath.Join(s.dir, "dovecot.conf")
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		return err
	}
	out, err := os.OpenFile(s.outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	s.cmd = exec.Command(s.dovecotBin, "-F", "-c", s.conf)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.Dir = s.dir
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.cmd, s.done)
	return s.waitReady()
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until IMAP greets with "* OK", LMTP with "220" and
// the auth-userdb socket (used by doveadm) exists.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("dovecot exited: %v", s.cmd.ProcessState)
		default:
		}
		err := greets(s.imapAddr, "* OK")
		if err == nil {
			err = greets(s.lmtpAddr, "220 ")
		}
		if err == nil {
			_, err = os.Stat(filepath.Join(s.baseDir, "auth-userdb"))
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %v", startTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// greets connects to addr and checks the first line the server sends.
func greets(addr, prefix string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	if !strings.HasPrefix(line, prefix) {
		return fmt.Errorf("%s greeted %q", addr, line)
	}
	return nil
}

// Stop stops the server: SIGTERM to the master, then SIGKILL to its
// process group when it has not exited within 15 seconds. It is called by
// t.Cleanup and may be called earlier; later calls do nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// logs returns Dovecot's log file and its standard output and error.
func (s *Server) logs() string {
	var b strings.Builder
	for _, p := range []string{s.outPath, s.logPath} {
		if p == "" {
			continue
		}
		if data, err := os.ReadFile(p); err == nil && len(data) > 0 {
			fmt.Fprintf(&b, "==> %s <==\n%s\n", p, data)
		}
	}
	return b.String()
}

// MailLocation is the server's mail_location, usable as mailkeep's
// mail_store: "maildir:<tmp>/vmail/%d/%n/Maildir" plus the options chosen.
func (s *Server) MailLocation() string { return s.location }

// IMAPAddr is the IMAP listener, "127.0.0.1:port" (no TLS; plaintext
// LOGIN and AUTHENTICATE PLAIN allowed).
func (s *Server) IMAPAddr() string { return s.imapAddr }

// LMTPAddr is the LMTP listener, "127.0.0.1:port".
func (s *Server) LMTPAddr() string { return s.lmtpAddr }

// Users are the server's accounts.
func (s *Server) Users() []User { return append([]User(nil), s.users...) }

// Dir is the server's temporary directory (configuration, logs, vmail/).
func (s *Server) Dir() string { return s.dir }

// ConfigPath is the path of the generated dovecot.conf.
func (s *Server) ConfigPath() string { return s.conf }

// LogPath is the path of Dovecot's log file.
func (s *Server) LogPath() string { return s.logPath }

// MailOwner returns the uid and gid that own the mail (MailUser's).
func (s *Server) MailOwner() (uid, gid uint32) { return s.uid, s.gid }

// Home returns a user's home directory, <tmp>/vmail/<domain>/<user>; the
// Maildir is its Maildir/ subdirectory.
func (s *Server) Home(user string) string {
	u, d, _ := strings.Cut(user, "@")
	return filepath.Join(s.vmail, d, u)
}
