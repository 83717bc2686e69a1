package agent_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent"
	"github.com/mailkeep/mailkeep/runtime/client"
)

// writeFile writes a file with exactly the given mode.
func writeFile(t *testing.T, path, content string, perm os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// selfSigned writes a certificate for 127.0.0.1 and its key (mode
// keyPerm) into dir and returns their paths.
func selfSigned(t *testing.T, dir string, keyPerm os.FileMode) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailkeep test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, filepath.Join(dir, "agent.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	keyFile = writeFile(t, filepath.Join(dir, "agent.key"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), keyPerm)
	return certFile, keyFile
}

// The agent refuses plain TCP except on loopback addresses, tokens
// shorter than 16 bytes, and a token file or TLS key its group or others
// may read (saying how to fix the mode); it accepts a unix socket, plain
// TCP on 127.0.0.1 and ::1, and TLS on any address.
func TestListenerRules(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.token"), token+"\n", 0o600)
	open := writeFile(t, filepath.Join(dir, "open.token"), token+"\n", 0o644)
	short := writeFile(t, filepath.Join(dir, "short.token"), "x\n", 0o600)
	cert, key := selfSigned(t, dir, 0o600)
	tlsDir := filepath.Join(dir, "open-key")
	os.Mkdir(tlsDir, 0o700)
	openCert, openKey := selfSigned(t, tlsDir, 0o640)

	for _, tc := range []struct {
		name string
		opts agent.ServeOptions
		want []string
	}{
		{"plain TCP on every interface", agent.ServeOptions{Listen: "tcp://0.0.0.0:0", TokenFile: good},
			[]string{"-listen tcp://0.0.0.0:0", "loopback"}},
		{"plain TCP on an empty host", agent.ServeOptions{Listen: ":0", TokenFile: good},
			[]string{"-listen :0", "loopback"}},
		{"world-readable token file", agent.ServeOptions{Listen: "127.0.0.1:0", TokenFile: open},
			[]string{"-token-file", "permissions 0644 for '" + open + "' are too open", "chmod 600 " + open}},
		{"world-readable token file on a socket", agent.ServeOptions{Listen: "unix://" + filepath.Join(dir, "a.sock"), TokenFile: open},
			[]string{"permissions 0644 for '" + open + "' are too open"}},
		{"one-byte token", agent.ServeOptions{Listen: "127.0.0.1:0", TokenFile: short},
			[]string{"-token-file", short, "at least 16"}},
		{"group-readable TLS key", agent.ServeOptions{Listen: "tcp://0.0.0.0:0", TokenFile: good, TLSCert: openCert, TLSKey: openKey},
			[]string{"-tls-key", "permissions 0640 for '" + openKey + "' are too open", "chmod 600 " + openKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listened := false
			err := serveOnce(t, startAgent(t).a, tc.opts, func(net.Addr) { listened = true })
			if err == nil || listened {
				t.Fatalf("Serve(%+v) listened (error %v)", tc.opts, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal %q lacks %q", err, w)
				}
			}
		})
	}

	for _, tc := range []struct {
		name   string
		opts   agent.ServeOptions
		scheme string
	}{
		{"unix socket without a token", agent.ServeOptions{Listen: "unix://" + filepath.Join(dir, "ok.sock")}, "unix"},
		{"plain TCP on 127.0.0.1", agent.ServeOptions{Listen: "127.0.0.1:0", TokenFile: good}, "http"},
		{"plain TCP on ::1", agent.ServeOptions{Listen: "tcp://[::1]:0", TokenFile: good}, "http"},
		{"TLS on every interface", agent.ServeOptions{Listen: "tcp://0.0.0.0:0", TokenFile: good, TLSCert: cert, TLSKey: key}, "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var callErr error
			err := serveOnce(t, startAgent(t).a, tc.opts, func(addr net.Addr) {
				target := client.Target{URL: "unix://" + addr.String()}
				if tc.scheme != "unix" {
					// The certificate is for 127.0.0.1, where 0.0.0.0 answers too.
					tcp := addr.(*net.TCPAddr)
					host := tcp.IP.String()
					if tcp.IP.IsUnspecified() {
						host = "127.0.0.1"
					}
					target = client.Target{URL: tc.scheme + "://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)), Token: token, CAFile: cert}
				}
				c, err := client.New(target)
				if err == nil {
					_, err = c.Status(context.Background())
				}
				callErr = err
			})
			if err != nil || callErr != nil {
				t.Errorf("Serve(%+v): %v; a request: %v", tc.opts, err, callErr)
			}
		})
	}
}
