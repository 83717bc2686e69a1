package secret

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const goodToken = "0123456789abcdef0123"

func writeSecret(t *testing.T, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.token")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// A token file readable by its owner only is read, trimmed; one its group
// or others may access is refused with the mode and the chmod that fixes
// it, as OpenSSH says it.
func TestReadTokenModes(t *testing.T) {
	for _, perm := range []os.FileMode{0o600, 0o400} {
		path := writeSecret(t, goodToken+"\n", perm)
		if tok, err := ReadToken(path); err != nil || tok != goodToken {
			t.Errorf("mode %04o: %q, %v", perm, tok, err)
		}
	}
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o601} {
		path := writeSecret(t, goodToken, perm)
		_, err := ReadToken(path)
		want := []string{"permissions " + octal(perm) + " for '" + path + "' are too open", "chmod 600 " + path}
		if !IsModeError(err) {
			t.Errorf("mode %04o: %v, want a ModeError", perm, err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("mode %04o: %q lacks %q", perm, err, w)
			}
		}
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := uint32(m.Perm())
	return string([]byte{digits[p>>9&7], digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}

// Tokens shorter than MinTokenLen bytes, empty ones and ones that cannot
// stand in a header are refused without showing them; special files are
// refused without blocking.
func TestReadTokenRefusals(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"", "is empty"},
		{" \n", "is empty"},
		{"x", "is 1 bytes long; a token must be at least 16"},
		{"0123456789abcde", "is 15 bytes long"},
		{"0123456789 abcdef", "byte 11 (0x20)"},
		{"0123456789abcdef\x01", "byte 17 (0x01)"},
		{"0123456789abcdefé", "byte 17 (0xc3)"},
	} {
		path := writeSecret(t, tc.content, 0o600)
		_, err := ReadToken(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("token %q: %v, want %q naming the file", tc.content, err, tc.want)
		}
		if tok := strings.TrimSpace(tc.content); len(tok) > 1 && err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("the refusal shows the token: %v", err)
		}
	}
	if path := writeSecret(t, goodToken, 0o600); len(goodToken) < MinTokenLen || CheckToken(goodToken, path) != nil {
		t.Errorf("a %d-byte token refused", len(goodToken))
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadToken(fifo); err == nil || !strings.Contains(err.Error(), "a named pipe") {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := ReadToken(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("directory: %v", err)
	}
	big := writeSecret(t, strings.Repeat("a", MaxFileSize+1), 0o600)
	if _, err := ReadToken(big); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("oversized file: %v", err)
	}
	if _, err := ReadToken(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was read")
	}
}

// Plain TCP is accepted on loopback addresses only; unix sockets and TLS
// listeners are accepted anywhere.
func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		network, address string
		tls, ok          bool
	}{
		{"unix", "/run/mailkeep/agent.sock", false, true},
		{"tcp", "127.0.0.1:7443", false, true},
		{"tcp", "127.1.2.3:7443", false, true},
		{"tcp", "[::1]:7443", false, true},
		{"tcp", "localhost:7443", false, true},
		{"tcp", "0.0.0.0:7443", true, true},
		{"tcp", "192.0.2.10:7443", true, true},
		{"tcp", "0.0.0.0:7443", false, false},
		{"tcp", ":7443", false, false},
		{"tcp", "[::]:7443", false, false},
		{"tcp", "192.0.2.10:7443", false, false},
		{"tcp", "[2001:db8::1]:7443", false, false},
		{"tcp", "[::ffff:192.0.2.10]:7443", false, false},
		{"tcp", "no-such-host.invalid:7443", false, false},
	} {
		err := CheckListen(tc.network, tc.address, tc.tls, "-listen "+tc.address)
		if (err == nil) != tc.ok {
			t.Errorf("%s %s tls=%v: %v, want ok=%v", tc.network, tc.address, tc.tls, err, tc.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "-listen "+tc.address) || !strings.Contains(err.Error(), "loopback")) {
			t.Errorf("%s: the refusal %q does not name the listener and the rule", tc.address, err)
		}
	}
}
