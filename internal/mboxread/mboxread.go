// Package mboxread reads mbox files as independent software does, for the
// tests of mailkeep's mbox export: Python 3's standard mailbox module (the
// reader of many mail tools), and mboxrd unquoting.
package mboxread

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed read_mbox.py
var script []byte

// Message is what Python's mailbox module reads of one message.
type Message struct {
	// From is the "From " line without "From " and the newline.
	From string `json:"from"`
	// Flags are mboxMessage.get_flags(): the letters of Status and
	// X-Status (R read, O old, A answered, F flagged, T draft, D deleted).
	Flags string `json:"flags"`
	// Keywords is the X-Keywords header.
	Keywords string `json:"keywords"`
	// Bytes is the message as stored in the mbox (still quoted).
	Bytes []byte `json:"bytes"`
}

// Python reads an mbox file with python3's mailbox module.
func Python(path string) ([]Message, error) {
	dir, err := os.MkdirTemp("", "mboxread-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sp := filepath.Join(dir, "read_mbox.py")
	if err := os.WriteFile(sp, script, 0o600); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command("python3", sp, path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("python3 reading %s: %v\n%s", path, err, stderr.String())
	}
	var msgs []Message
	if err := json.Unmarshal(out, &msgs); err != nil {
		return nil, fmt.Errorf("python3 reading %s: %w", path, err)
	}
	return msgs, nil
}

// Unquote undoes mboxrd quoting: one '>' less on every line that matches
// ^>+From .
func Unquote(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		b = b[len(line):]
		j := 0
		for j < len(line) && line[j] == '>' {
			j++
		}
		if j > 0 && bytes.HasPrefix(line[j:], []byte("From ")) {
			line = line[1:]
		}
		out = append(out, line...)
	}
	return out
}

// StripHeaders removes the named header fields (and their continuation
// lines) from a message's header; the body is left as it is.
func StripHeaders(msg []byte, names ...string) []byte {
	var out []byte
	skipping, inHeader := false, true
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line = msg[:i+1]
		}
		msg = msg[len(line):]
		if inHeader {
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				inHeader = false
			} else if line[0] == ' ' || line[0] == '\t' {
				if skipping {
					continue
				}
			} else {
				skipping = false
				if name, _, ok := bytes.Cut(line, []byte(":")); ok {
					for _, n := range names {
						if bytes.EqualFold(bytes.TrimRight(name, " \t"), []byte(n)) {
							skipping = true
						}
					}
				}
				if skipping {
					continue
				}
			}
		}
		out = append(out, line...)
	}
	return out
}
