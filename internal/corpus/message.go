package corpus

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"mime"
	"strconv"
	"strings"
	"time"
)

// role says who wrote a message and how it reached the folder, which decides
// its headers.
type role uint8

const (
	roleInbound role = iota // delivered by LMTP from another sender
	roleList                // a mailing-list post: byte-identical in every subscriber's store
	roleSent                // saved by the account's own client (Sent)
	roleDraft               // saved by the account's own client (Drafts)
)

// envelope is what the plan decides about a message; everything else about
// its content comes from its own random stream.
type envelope struct {
	role     role
	account  string // user@domain (for roleList: unused, the copies must be identical)
	name     string // the account owner's display name
	domain   string // the account's domain
	list     string // roleList: the list's name
	received int64  // unix seconds, the file's mtime
}

// Size model (bytes). textMedian is the median of the text part before
// encoding; headers add 0.5–3 KB, HTML alternatives roughly double the text.
// The parameters were tuned so that the median message is near 8 KB, about
// 3% exceed 100 KB and a few per thousand exceed 1 MB (see TestSizeDistribution).
const (
	textMedian     = 3700
	textSigma      = 0.85
	pBigAttach     = 0.03 // Pareto(α=1) tail from bigAttachMin up to MaxSize
	pSmallAttach   = 0.09 // log-uniform small attachments
	bigAttachMin   = 100 << 10
	smallAttachMin = 6 << 10
	smallAttachMax = 80 << 10
	pHTML          = 0.45 // multipart/alternative with an HTML part
	pGerman        = 0.15 // body in German (UTF-8, quoted-printable)
	pReply         = 0.35
	minMaxSize     = 16 << 10
)

var zones = []*time.Location{
	time.FixedZone("", 0), time.FixedZone("", 3600), time.FixedZone("", 7200),
	time.FixedZone("", -5*3600), time.FixedZone("", -8*3600),
	time.FixedZone("", 5*3600+1800), time.FixedZone("", 9*3600),
}

// msgGen builds one message. It is not safe for concurrent use; each worker
// has its own and reuses its buffers.
type msgGen struct {
	r       *rand.Rand
	scratch []byte // raw attachment bytes
	text    []byte
	html    []byte
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func (g *msgGen) person() (name, addr string) {
	f, l := pick(g.r, firstNames), pick(g.r, lastNames)
	return strings.ToUpper(f[:1]) + f[1:] + " " + strings.ToUpper(l[:1]) + l[1:], f + "." + l
}

func rfc2822(secs int64, loc *time.Location) string {
	return time.Unix(secs, 0).In(loc).Format(time.RFC1123Z)
}

// build appends the message for env to dst and returns it. The result never
// exceeds maxSize bytes.
func (g *msgGen) build(dst []byte, seed uint64, env envelope, maxSize int) []byte {
	start := len(dst)
	for shrink := 1; ; shrink *= 2 {
		g.r = rand.New(rand.NewPCG(seed, mix(seed, 0x6d7367)))
		dst = g.buildOnce(dst[:start], seed, env, maxSize, shrink)
		if len(dst)-start <= maxSize {
			return dst
		}
	}
}

func (g *msgGen) buildOnce(dst []byte, seed uint64, env envelope, maxSize, shrink int) []byte {
	r := g.r
	start := len(dst)

	// Sizes first, so that the rest of the stream does not depend on them.
	textSize := int(logNormal(r, textMedian, textSigma))/shrink + 120
	var attach []int
	u := r.Float64()
	switch {
	case env.role == roleDraft:
	case u < pBigAttach:
		lo := float64(bigAttachMin) / float64(maxSize)
		if lo > 0.5 {
			lo = 0.5
		}
		v := lo + float64(r.Float64()*(1-lo)) // Pareto α=1: min/v, truncated at maxSize
		attach = append(attach, int(float64(bigAttachMin)/v))
	case u < pBigAttach+pSmallAttach:
		n := 1 + r.IntN(2)
		for i := 0; i < n; i++ {
			f := expDet(float64(r.Float64() * 2.5903)) // ln(smallAttachMax/smallAttachMin)
			attach = append(attach, int(float64(smallAttachMin)*f)/n)
		}
	}
	html := r.Float64() < pHTML
	german := r.Float64() < pGerman
	reply := r.Float64() < pReply

	dst = g.headers(dst, env, german, reply)
	headerLen := len(dst) - start

	// Budget: keep the whole message under maxSize with room for MIME
	// part headers and the worst quoted-printable expansion.
	room := maxSize - headerLen - 1500
	textCost := textSize
	if html {
		textCost = textSize * 5 / 2
	}
	if german {
		textCost = textCost * 13 / 10
	}
	limit := room
	if len(attach) > 0 {
		limit = room / 2
	}
	if textCost > limit {
		textSize = textSize * limit / textCost
		textCost = limit
	}
	attachRoom := room - textCost - 400*len(attach)
	total := 0
	for _, a := range attach {
		total += encodedLen(a)
	}
	if total > attachRoom {
		for i := range attach {
			attach[i] = attach[i] * (attachRoom / len(attach)) / encodedLen(attach[i])
			if attach[i] < 0 {
				attach[i] = 0
			}
		}
	}
	for i := len(attach) - 1; i >= 0; i-- {
		if attach[i] < 512 {
			attach = append(attach[:i], attach[i+1:]...)
		}
	}

	g.text = g.bodyText(g.text[:0], env, textSize, german, reply)
	if html {
		g.html = toHTML(g.html[:0], g.text)
	}
	charset, cte := `"us-ascii"`, "7bit"
	if german {
		charset, cte = `"utf-8"`, "quoted-printable"
	}

	textPart := func(dst []byte) []byte {
		dst = append(dst, "Content-Type: text/plain; charset="...)
		dst = append(dst, charset...)
		dst = append(dst, "\nContent-Transfer-Encoding: "...)
		dst = append(dst, cte...)
		dst = append(dst, "\n\n"...)
		if german {
			return qpEncode(dst, g.text)
		}
		return append(dst, g.text...)
	}
	alternative := func(dst []byte, boundary string, top bool) []byte {
		dst = append(dst, "Content-Type: multipart/alternative;\n\tboundary=\""...)
		dst = append(dst, boundary...)
		dst = append(dst, "\"\n\n"...)
		if top {
			dst = append(dst, "This is a multi-part message in MIME format.\n"...)
		}
		dst = append(dst, "\n--"...)
		dst = append(dst, boundary...)
		dst = append(dst, '\n')
		dst = textPart(dst)
		dst = append(dst, "\n--"...)
		dst = append(dst, boundary...)
		dst = append(dst, "\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n"...)
		dst = qpEncode(dst, g.html)
		dst = append(dst, "\n--"...)
		dst = append(dst, boundary...)
		return append(dst, "--\n"...)
	}

	switch {
	case len(attach) == 0 && !html:
		dst = textPart(dst)
	case len(attach) == 0:
		dst = alternative(dst, g.boundary(), true)
	default:
		outer := g.boundary()
		dst = append(dst, "Content-Type: multipart/mixed;\n\tboundary=\""...)
		dst = append(dst, outer...)
		dst = append(dst, "\"\n\nThis is a multi-part message in MIME format.\n\n--"...)
		dst = append(dst, outer...)
		dst = append(dst, '\n')
		if html {
			dst = alternative(dst, g.boundary(), false)
		} else {
			dst = textPart(dst)
		}
		for _, size := range attach {
			dst = append(dst, "\n--"...)
			dst = append(dst, outer...)
			dst = append(dst, '\n')
			dst = g.attachment(dst, size)
		}
		dst = append(dst, "\n--"...)
		dst = append(dst, outer...)
		dst = append(dst, "--\n"...)
	}
	return dst
}

// append2 appends n (0–99) as two digits.
func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

func encodedLen(raw int) int { return (raw + 56) / 57 * 77 }

func (g *msgGen) boundary() string {
	var b [12]byte
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	if g.r.IntN(2) == 0 {
		return "----=_Part_" + strconv.Itoa(g.r.IntN(900000)+100000) + "_" + hex.EncodeToString(b[:6])
	}
	return "=_" + hex.EncodeToString(b[:])
}

func (g *msgGen) headers(dst []byte, env envelope, german, reply bool) []byte {
	r := g.r
	senderName, senderLocal := g.person()
	senderDomain := pick(r, externalDomains)
	if env.role == roleInbound && r.IntN(10) < 3 {
		senderDomain = env.domain // a colleague
	}
	sender := senderLocal + "@" + senderDomain
	zone := pick(r, zones)
	sent := env.received - int64(2+r.IntN(600))
	var id [16]byte
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	subject := g.subject(german)
	if reply {
		subject = "Re: " + subject
	}

	h := func(k, v string) {
		dst = append(dst, k...)
		dst = append(dst, ": "...)
		dst = append(dst, v...)
		dst = append(dst, '\n')
	}
	switch env.role {
	case roleInbound:
		h("Return-Path", "<"+sender+">")
		h("Delivered-To", env.account)
		h("Received", fmt.Sprintf("from mail.%s\n\tby mail.%s with LMTP\n\tid %s\n\t(envelope-from <%s>)\n\tfor <%s>; %s",
			env.domain, env.domain, g.b64(16), sender, env.account, rfc2822(env.received, time.UTC)))
		mx := "mx" + strconv.Itoa(r.IntN(4)+1) + "." + senderDomain
		h("Received", fmt.Sprintf("from %s (%s [%s])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\n\t(No client certificate requested)\n\tby mail.%s (Postfix) with ESMTPS id %s\n\tfor <%s>; %s",
			mx, mx, g.ip(), env.domain, strings.ToUpper(hex.EncodeToString(id[:5])), env.account, rfc2822(env.received-1, time.UTC)))
		dst = g.dkim(dst, senderDomain, sent)
		h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+senderDomain+">")
		h("Date", rfc2822(sent, zone))
		h("From", senderName+" <"+sender+">")
		h("To", env.name+" <"+env.account+">")
		if r.IntN(5) == 0 {
			n1, a1 := g.person()
			h("Cc", n1+" <"+a1+"@"+pick(r, externalDomains)+">")
		}
	case roleList:
		listAddr := env.list + "@lists.example.net"
		h("Return-Path", "<"+env.list+"-bounces@lists.example.net>")
		h("Received", fmt.Sprintf("from lists.example.net (lists.example.net [192.0.2.25])\n\tby mx.lists.example.net (Postfix) with ESMTPS id %s;\n\t%s",
			strings.ToUpper(hex.EncodeToString(id[:5])), rfc2822(env.received-3, time.UTC)))
		dst = g.dkim(dst, senderDomain, sent)
		h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+senderDomain+">")
		h("Date", rfc2822(sent, zone))
		h("From", senderName+" <"+sender+">")
		h("To", listAddr)
		h("List-Id", env.list+" <"+env.list+".lists.example.net>")
		h("List-Unsubscribe", "<mailto:"+env.list+"-leave@lists.example.net>")
		h("List-Post", "<mailto:"+listAddr+">")
		h("Precedence", "list")
		subject = "[" + env.list + "] " + subject
	case roleSent, roleDraft:
		if env.role == roleSent {
			h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+env.domain+">")
		}
		h("Date", rfc2822(env.received, zone))
		h("From", env.name+" <"+env.account+">")
		h("To", senderName+" <"+sender+">")
		h("User-Agent", pick(r, []string{"Mozilla Thunderbird", "Roundcube Webmail/1.6.5", "Apple Mail (2.3774.300.61.1.2)", "Evolution 3.46.4"}))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	if reply {
		ref := "<" + g.hexString(12) + "@" + senderDomain + ">"
		h("In-Reply-To", ref)
		h("References", ref)
	}
	h("MIME-Version", "1.0")
	return dst
}

func (g *msgGen) subject(german bool) string {
	r := g.r
	tmpl := pick(r, subjectsEN)
	if german {
		tmpl = pick(r, subjectsDE)
	}
	var args []any
	for i := 0; i+1 < len(tmpl); i++ {
		if tmpl[i] != '%' {
			continue
		}
		switch tmpl[i+1] {
		case 'd':
			args = append(args, r.IntN(9000)+10)
		case 's':
			args = append(args, pick(r, weekdays))
		}
	}
	if len(args) == 0 {
		return tmpl
	}
	return fmt.Sprintf(tmpl, args...)
}

func (g *msgGen) dkim(dst []byte, domain string, t int64) []byte {
	dst = append(dst, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d="...)
	dst = append(dst, domain...)
	dst = append(dst, "; s=s2024;\n\tt="...)
	dst = strconv.AppendInt(dst, t, 10)
	dst = append(dst, "; bh="...)
	dst = append(dst, g.b64(32)...)
	dst = append(dst, ";\n\th=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;\n\tb="...)
	sig := g.b64(256)
	for len(sig) > 70 {
		dst = append(dst, sig[:70]...)
		dst = append(dst, "\n\t "...)
		sig = sig[70:]
	}
	dst = append(dst, sig...)
	return append(dst, '\n')
}

func (g *msgGen) b64(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (g *msgGen) hexString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return hex.EncodeToString(b)
}

func (g *msgGen) ip() string {
	r := g.r
	return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

// bodyText writes the plain-text body: greeting, paragraphs, signature and,
// for replies, a quoted earlier message.
func (g *msgGen) bodyText(dst []byte, env envelope, size int, german, reply bool) []byte {
	r := g.r
	start := len(dst)
	greetName, _ := g.person()
	greetName = greetName[:strings.IndexByte(greetName, ' ')]
	if german {
		dst = append(dst, "Hallo "...)
	} else {
		dst = append(dst, pick(r, []string{"Hi ", "Hello ", "Dear ", "Hey "})...)
	}
	dst = append(dst, greetName...)
	dst = append(dst, ",\n\n"...)
	own := size
	if reply {
		own = size * 45 / 100
	}
	dst = g.paragraphs(dst, own-(len(dst)-start)-120, german)
	if german {
		dst = append(dst, "\nViele Grüße\n"...)
	} else {
		dst = append(dst, pick(r, []string{"\nBest regards,\n", "\nThanks,\n", "\nCheers,\n", "\nKind regards,\n"})...)
	}
	signer := env.name
	if env.role == roleInbound || env.role == roleList {
		signer, _ = g.person()
	}
	dst = append(dst, signer...)
	dst = append(dst, '\n')
	if r.IntN(2) == 0 {
		dst = append(dst, "--\n"...)
		dst = append(dst, pick(r, companies)...)
		dst = append(dst, " GmbH | +49 30 "...)
		dst = strconv.AppendInt(dst, int64(1000000+r.IntN(9000000)), 10)
		dst = append(dst, '\n')
	}
	if reply {
		n, a := g.person()
		dst = append(dst, "\nOn "...)
		dst = append(dst, rfc2822(env.received-int64(3600+r.IntN(86400*3)), time.UTC)...)
		dst = append(dst, ", "...)
		dst = append(dst, n...)
		dst = append(dst, " <"...)
		dst = append(dst, a...)
		dst = append(dst, "@"...)
		dst = append(dst, pick(r, externalDomains)...)
		dst = append(dst, "> wrote:\n"...)
		q := g.paragraphs(nil, size-(len(dst)-start), german)
		for len(q) > 0 {
			i := bytes.IndexByte(q, '\n')
			line := q
			if i >= 0 {
				line, q = q[:i], q[i+1:]
			} else {
				q = nil
			}
			dst = append(dst, '>')
			if len(line) > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, line...)
			dst = append(dst, '\n')
		}
	}
	return dst
}

// paragraphs appends wrapped prose of at most n bytes (at least one word).
func (g *msgGen) paragraphs(dst []byte, n int, german bool) []byte {
	r := g.r
	start := len(dst)
	line := 0
	words := wordsEN
	for {
		sentences := 2 + r.IntN(5)
		for s := 0; s < sentences; s++ {
			nw := 5 + r.IntN(14)
			for w := 0; w < nw; w++ {
				if german && r.IntN(3) != 0 {
					words = wordsDE
				} else {
					words = wordsEN
				}
				word := words[r.IntN(len(words))]
				if len(dst)-start+len(word)+2 > n && len(dst) > start {
					if line > 0 {
						dst = append(dst, ".\n"...)
					}
					return dst
				}
				if line > 0 && line+1+len(word) > 72 {
					dst = append(dst, '\n')
					line = 0
				} else if line > 0 {
					dst = append(dst, ' ')
					line++
				}
				if w == 0 && word[0] >= 'a' && word[0] <= 'z' {
					dst = append(dst, word[0]-'a'+'A')
					dst = append(dst, word[1:]...)
				} else {
					dst = append(dst, word...)
				}
				line += len(word)
				if w == nw-1 {
					if r.IntN(6) == 0 {
						dst = append(dst, '?')
					} else {
						dst = append(dst, '.')
					}
					line++
				} else if r.IntN(9) == 0 {
					dst = append(dst, ',')
					line++
				}
			}
		}
		dst = append(dst, "\n\n"...)
		line = 0
	}
}

// toHTML renders the plain text as a simple HTML document, one <p> per
// paragraph, as mail clients do.
func toHTML(dst, text []byte) []byte {
	dst = append(dst, "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>\n<body><div dir=\"ltr\">"...)
	for _, p := range bytes.Split(text, []byte("\n\n")) {
		if len(p) == 0 {
			continue
		}
		dst = append(dst, "<p style=\"margin:0 0 1em 0\">"...)
		for i := 0; i < len(p); i++ {
			switch c := p[i]; c {
			case '\n':
				dst = append(dst, "<br>\n"...)
			case '<':
				dst = append(dst, "&lt;"...)
			case '>':
				dst = append(dst, "&gt;"...)
			case '&':
				dst = append(dst, "&amp;"...)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, "</p>\n"...)
	}
	return append(dst, "</div></body></html>\n"...)
}

const hexUpper = "0123456789ABCDEF"

// qpEncode appends src in quoted-printable (RFC 2045 §6.7) with LF line
// ends, as messages are stored in Maildir: lines of at most 76 characters,
// soft breaks "=\n", trailing white space encoded.
func qpEncode(dst, src []byte) []byte {
	for len(src) > 0 {
		i := 0
		for i < len(src) && src[i] != '\n' {
			i++
		}
		line := src[:i]
		if i < len(src) {
			src = src[i+1:]
		} else {
			src = src[i:]
		}
		n := 0
		for j, c := range line {
			lit := c >= 33 && c <= 126 && c != '=' || (c == ' ' || c == '\t') && j < len(line)-1
			w := 1
			if !lit {
				w = 3
			}
			if n+w > 75 {
				dst = append(dst, "=\n"...)
				n = 0
			}
			if lit {
				dst = append(dst, c)
			} else {
				dst = append(dst, '=', hexUpper[c>>4], hexUpper[c&15])
			}
			n += w
		}
		dst = append(dst, '\n')
	}
	return dst
}

var attachMagic = map[string]string{
	"application/pdf": "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
	"image/jpeg":      "\xff\xd8\xff\xe0\x00\x10JFIF\x00",
	"image/png":       "\x89PNG\r\n\x1a\n",
	"application/zip": "PK\x03\x04",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "PK\x03\x04",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "PK\x03\x04",
}

// attachment appends one base64 attachment part with about size raw bytes:
// pseudo-random for binary types (incompressible, like JPEG or PDF streams),
// generated CSV or prose for text types.
func (g *msgGen) attachment(dst []byte, size int) []byte {
	r := g.r
	k := pick(r, attachKinds)
	name := fmt.Sprintf(k.name, r.IntN(9000)+1)
	raw := g.scratch[:0]
	if k.text {
		if k.ctype == "text/csv" {
			raw = append(raw, "date;account;amount;reference\n"...)
			for len(raw) < size {
				raw = append(raw, "2025-"...)
				raw = append2(raw, 1+r.IntN(12))
				raw = append(raw, '-')
				raw = append2(raw, 1+r.IntN(28))
				raw = append(raw, ';')
				raw = append(raw, pick(r, lastNames)...)
				raw = append(raw, ';')
				raw = strconv.AppendInt(raw, int64(r.IntN(10000)), 10)
				raw = append(raw, '.')
				raw = append2(raw, r.IntN(100))
				raw = append(raw, ";INV-"...)
				raw = strconv.AppendInt(raw, int64(r.IntN(100000)), 10)
				raw = append(raw, '\n')
			}
			raw = raw[:size]
		} else {
			raw = g.paragraphs(raw, size, false)
		}
	} else {
		if cap(raw) < size {
			raw = make([]byte, size)
		}
		raw = raw[:size]
		newChaCha(r.Uint64()).Read(raw)
		copy(raw, attachMagic[k.ctype])
	}
	g.scratch = raw

	dst = append(dst, "Content-Type: "...)
	dst = append(dst, k.ctype...)
	dst = append(dst, "; name=\""...)
	dst = append(dst, name...)
	dst = append(dst, "\"\nContent-Disposition: attachment; filename=\""...)
	dst = append(dst, name...)
	dst = append(dst, "\"\nContent-Transfer-Encoding: base64\n\n"...)
	var line [76]byte
	for len(raw) > 0 {
		n := min(57, len(raw))
		base64.StdEncoding.Encode(line[:], raw[:n])
		dst = append(dst, line[:base64.StdEncoding.EncodedLen(n)]...)
		dst = append(dst, '\n')
		raw = raw[n:]
	}
	return dst
}
