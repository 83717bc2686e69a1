package dovecot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// doveadmTimeout bounds one doveadm command.
const doveadmTimeout = 2 * time.Minute

// Doveadm runs `doveadm -c <conf> args...` and returns its standard
// output. The error carries the command and its standard error.
func (s *Server) Doveadm(args ...string) ([]byte, error) {
	return s.doveadmInput(nil, args...)
}

func (s *Server) doveadmInput(stdin []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), doveadmTimeout)
	defer cancel()
	full := append([]string{"-c", s.conf}, args...)
	cmd := exec.CommandContext(ctx, s.doveadm, full...)
	cmd.Dir = s.dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("doveadm %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// DoveadmJSON runs `doveadm -c <conf> -f json args...` and decodes its
// output into v; doveadm prints every value as a JSON string, e.g.
// []map[string]string for fetch and mailbox status.
func (s *Server) DoveadmJSON(v any, args ...string) error {
	out, err := s.Doveadm(append([]string{"-f", "json"}, args...)...)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(out)) == 0 {
		out = []byte("[]")
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("doveadm -f json %s: decoding %q: %w", strings.Join(args, " "), out, err)
	}
	return nil
}

// SaveMessage stores a message in a user's folder with `doveadm save -u
// user -m folder`, as a delivery would (the received date is now).
func (s *Server) SaveMessage(user, folder string, msg []byte) error {
	_, err := s.doveadmInput(msg, "save", "-u", user, "-m", folder)
	return err
}
