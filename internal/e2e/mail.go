package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// DeliverLMTP delivers one message to recipients through LMTP, as a
// mail transfer agent hands mail to Dovecot. Every recipient must be
// accepted and the message stored for each; the error names the ones that
// were not.
func DeliverLMTP(addr, from string, to []string, msg []byte) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("LMTP %s: %w", addr, err)
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("LMTP %s: LHLO: %w", addr, err)
	}
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("LMTP %s: MAIL FROM %s: %w", addr, from, err)
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return fmt.Errorf("LMTP %s: RCPT TO %s: %w", addr, r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("LMTP %s: DATA: %w", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("LMTP %s: DATA: %w", addr, err)
	}
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		return fmt.Errorf("LMTP %s: delivery to %v: %w", addr, to, err)
	}
	return c.Quit()
}

var (
	sampleWords = strings.Fields(`backup restore mailbox folder server message quarterly report meeting
		agenda budget invoice project deadline review draft schedule migration storage
		retention policy archive network upgrade customer contract weekly summary`)
	sampleGerman = strings.Fields(`Grüße Entwurf Besprechung Rechnung Übersicht Änderung
		Straße größer Prüfung Zusammenfassung Mitteilung`)
	sampleSenders = []string{"ann@example.net", "bert@example.org", "chloé@example.net", "dmitri@example.com",
		"eve@lists.example.org", "frank@example.net"}
)

// SampleMessage is a deterministic RFC 5322 message (CRLF line ends) for
// tests and the demo: n numbers it (Message-ID <n.seed@mailkeep.test>),
// r draws its subject, sender, body length and, for some, a UTF-8 body in
// quoted-printable or a base64 attachment. to is the To: header.
func SampleMessage(r *rand.Rand, n int, to string) []byte {
	var b bytes.Buffer
	words := func(k int, from []string) string {
		out := make([]string, k)
		for i := range out {
			out[i] = from[r.IntN(len(from))]
		}
		return strings.Join(out, " ")
	}
	date := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(365*24*60)) * time.Minute)
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", sampleSenders[r.IntN(len(sampleSenders))])
	fmt.Fprintf(&b, "From: %s\r\n", sampleSenders[r.IntN(len(sampleSenders))])
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s #%d\r\n", words(1+r.IntN(5), sampleWords), n)
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%d.%d@mailkeep.test>\r\n", n, r.Uint32())
	b.WriteString("MIME-Version: 1.0\r\n")
	switch r.IntN(4) {
	case 0: // German text, quoted-printable
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		for i := 0; i < 1+r.IntN(20); i++ {
			b.WriteString(qp(words(4+r.IntN(8), sampleGerman)) + "\r\n")
		}
	case 1: // with an attachment
		const boundary = "mailkeep-boundary"
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
		fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n", boundary, words(10+r.IntN(30), sampleWords))
		fmt.Fprintf(&b, "--%s\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"data-%d.bin\"\r\n\r\n", boundary, n)
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		for i := 0; i < 5+r.IntN(200); i++ {
			line := make([]byte, 76)
			for j := range line {
				line[j] = alphabet[r.IntN(len(alphabet))]
			}
			b.Write(line)
			b.WriteString("\r\n")
		}
		fmt.Fprintf(&b, "--%s--\r\n", boundary)
	default: // plain text
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		for i := 0; i < 1+r.IntN(40); i++ {
			b.WriteString(words(5+r.IntN(10), sampleWords) + "\r\n")
		}
	}
	return b.Bytes()
}

// qp encodes UTF-8 text as quoted-printable (lines here stay short).
func qp(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c == '=' {
			fmt.Fprintf(&b, "=%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
