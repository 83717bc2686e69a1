package pack

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Mail-like test data: RFC 5322 messages with Received chains, a DKIM
// signature, quoted-printable text (with some UTF-8), sometimes an HTML
// alternative, and base64 attachments of random bytes (as already
// compressed JPEG, PDF or ZIP files are). Sizes are log-normal with a
// median near 8 KB, and 2% with attachments of 200 KB to 4 MB. Deterministic for a seed.

var mailWords = strings.Fields(`the a to of and in for on is that with this be are you it at as
have from your we will our by or not can please meeting project report budget team
review attached invoice schedule thanks regards hello update status customer order
delivery server backup quarterly results next week monday friday agenda notes draft
contract proposal deadline release version issue ticket support account password
résumé café naïve déjà über straße größe façade coördinate piñata`)

var mailNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"}
var mailDomains = []string{"example.com", "example.org", "mail.example.net", "corp.example", "lists.example.com"}

type mailGen struct {
	r   *rand.Rand
	now time.Time
}

func newMailGen(seed uint64) *mailGen {
	return &mailGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// size draws a message size: log-normal with median 8 KiB and sigma 1.2,
// mixed with 2% of messages carrying a large attachment (log-uniform,
// 200 KiB to 4 MiB), which hold most of the bytes as in real mailboxes.
func (g *mailGen) size() int {
	if g.r.IntN(50) == 0 {
		return int(math.Exp(math.Log(200<<10) + g.r.Float64()*math.Log(20)))
	}
	s := math.Exp(math.Log(8192) + 1.2*g.r.NormFloat64())
	return int(min(max(s, 600), 4<<20))
}

func (g *mailGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *mailGen) addr() string {
	return g.pick(mailNames) + "@" + g.pick(mailDomains)
}

func (g *mailGen) sentence() string {
	n := 4 + g.r.IntN(14)
	w := make([]string, n)
	for i := range w {
		w[i] = g.pick(mailWords)
	}
	s := strings.Join(w, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (g *mailGen) b64(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)
}

// wrap breaks s into lines of width characters.
func wrap(sb *strings.Builder, s string, width int) {
	for len(s) > width {
		sb.WriteString(s[:width])
		sb.WriteString("\r\n")
		s = s[width:]
	}
	sb.WriteString(s)
	sb.WriteString("\r\n")
}

// qp writes text as quoted-printable with soft line breaks at 76.
func qp(sb *strings.Builder, text string) {
	const hexd = "0123456789ABCDEF"
	line := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			sb.WriteString("\r\n")
			line = 0
			continue
		}
		enc := c == '=' || c > 126 || (c < 32 && c != '\t')
		n := 1
		if enc {
			n = 3
		}
		if line+n > 75 {
			sb.WriteString("=\r\n")
			line = 0
		}
		if enc {
			sb.WriteByte('=')
			sb.WriteByte(hexd[c>>4])
			sb.WriteByte(hexd[c&15])
		} else {
			sb.WriteByte(c)
		}
		line += n
	}
	sb.WriteString("\r\n")
}

func (g *mailGen) message() []byte {
	target := g.size()
	var sb strings.Builder
	sb.Grow(target + 4096)
	g.now = g.now.Add(time.Duration(g.r.IntN(3600)) * time.Second)
	date := g.now.Format(time.RFC1123Z)
	from, to := g.addr(), g.addr()
	fmt.Fprintf(&sb, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", from, to)
	for i := 2 + g.r.IntN(3); i > 0; i-- {
		fmt.Fprintf(&sb, "Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\r\n\tby mail.example.net (Postfix) with ESMTPS id %X\r\n\tfor <%s>; %s\r\n",
			g.r.IntN(9), g.pick(mailDomains), g.r.IntN(9), g.pick(mailDomains), g.r.IntN(255), g.r.Uint64()&0xffffffffff, to, date)
	}
	sb.WriteString("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1;\r\n\th=from:to:subject:date:message-id;\r\n\tbh=" + g.b64(32) + ";\r\n\tb=")
	wrap(&sb, g.b64(256), 70)
	fmt.Fprintf(&sb, "From: %s\r\nTo: %s\r\n", from, to)
	if g.r.IntN(3) == 0 {
		fmt.Fprintf(&sb, "Cc: %s, %s\r\n", g.addr(), g.addr())
	}
	fmt.Fprintf(&sb, "Subject: %s\r\nDate: %s\r\nMessage-ID: <%x.%d@%s>\r\nMIME-Version: 1.0\r\n",
		strings.TrimSuffix(g.sentence(), "."), date, g.r.Uint64(), g.r.IntN(1e6), g.pick(mailDomains))
	boundary := fmt.Sprintf("=_%x", g.r.Uint64())
	fmt.Fprintf(&sb, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\nThis is a multi-part message in MIME format.\r\n", boundary)

	// Text: up to ~10 KB of it (half as HTML alternative, sometimes); the
	// rest of the size goes to attachments.
	textSize := max(200, min(target-sb.Len()-300, 1500+g.r.IntN(9000)))
	withHTML := g.r.IntN(2) == 0
	if withHTML {
		textSize = textSize * 45 / 100
	}
	var text strings.Builder
	for text.Len() < textSize {
		for range 1 + g.r.IntN(5) {
			text.WriteString(g.sentence())
			text.WriteByte(' ')
		}
		text.WriteString("\n\n")
	}
	fmt.Fprintf(&sb, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary)
	qp(&sb, text.String())
	if withHTML {
		fmt.Fprintf(&sb, "--%s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary)
		html := "<html><body><p>" + strings.ReplaceAll(text.String(), "\n\n", "</p>\n<p>") + "</p></body></html>"
		qp(&sb, html)
	}
	for n := 0; sb.Len() < target-200; n++ {
		left := target - sb.Len() - 200
		raw := left * 3 / 4
		if g.r.IntN(2) == 0 && raw > 20000 {
			raw /= 2 // two attachments
		}
		fmt.Fprintf(&sb, "--%s\r\nContent-Type: application/octet-stream; name=\"file%d.pdf\"\r\nContent-Disposition: attachment; filename=\"file%d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", boundary, n, n)
		wrap(&sb, g.b64(max(raw, 16)), 76)
	}
	fmt.Fprintf(&sb, "--%s--\r\n", boundary)
	return []byte(sb.String())
}

// mailCorpus returns n generated messages.
func mailCorpus(seed uint64, n int) [][]byte {
	g := newMailGen(seed)
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = g.message()
	}
	return msgs
}
