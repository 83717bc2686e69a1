package export

import (
	"bytes"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/catalog"
)

// fromDate is the date of an mbox "From " line (asctime, in UTC).
const fromDate = "Mon Jan _2 15:04:05 2006"

// droppedHeaders are the header fields an mbox writer owns, dropped from
// the message as Dovecot's mbox storage drops them: the flags are written
// anew from the backup, and a Content-Length would no longer match the
// quoted body.
var droppedHeaders = []string{"Status", "X-Status", "X-Keywords", "Content-Length"}

// mboxStream writes one folder as an mbox file.
func (x *writer) mboxStream(w io.Writer, f *folder) error {
	for _, it := range f.items {
		data, err := x.read(f, it)
		if err != nil {
			return err
		}
		x.out = AppendMbox(x.out[:0], it, data)
		if _, err := w.Write(x.out); err != nil {
			return err
		}
		x.done()
	}
	return nil
}

// AppendMbox appends one message in mboxrd form to dst: a "From " line
// with the envelope sender (Return-Path, else From, else MAILER-DAEMON;
// ASCII only)
// and the received date; the header without the fields an mbox writer
// owns (droppedHeaders), then Status (R seen, O not new), X-Status (A
// answered, F flagged, T draft, D deleted) and X-Keywords when they are
// not empty; the body; and a blank line. Every line that matches
// ^>*From  gets one more '>'. A message that does not end with a newline
// gets one (mbox cannot tell them apart).
func AppendMbox(dst []byte, it *catalog.Item, msg []byte) []byte {
	dst = append(dst, "From "...)
	dst = append(dst, envelopeSender(msg)...)
	dst = append(dst, ' ')
	dst = time.Unix(0, it.MTime).UTC().AppendFormat(dst, fromDate)
	dst = append(dst, '\n')

	head, body := splitHeader(msg)
	eol := "\n"
	if i := bytes.IndexByte(msg, '\n'); i > 0 && msg[i-1] == '\r' {
		eol = "\r\n"
	}
	skipping := false
	for _, line := range lines(head) {
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !skipping {
				dst = appendQuoted(dst, line)
			}
			continue
		}
		skipping = isDropped(line)
		if !skipping {
			dst = appendQuoted(dst, line)
		}
	}
	if len(head) > 0 && head[len(head)-1] != '\n' {
		// A message that is all header and lacks its final newline.
		dst = append(dst, eol...)
	}
	status, xstatus := mboxFlags(it)
	for _, h := range [][2]string{{"Status", status}, {"X-Status", xstatus}, {"X-Keywords", mboxKeywords(it.Keywords)}} {
		if h[1] != "" {
			dst = append(dst, h[0]+": "+h[1]+eol...)
		}
	}
	if body == nil {
		// No blank line in the message: it is all header.
		dst = append(dst, eol...)
	}
	for _, line := range lines(body) {
		dst = appendQuoted(dst, line)
	}
	if len(dst) > 0 && dst[len(dst)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}

// splitHeader splits a message after the blank line that ends its header;
// the blank line belongs to body. body is nil when there is no blank line.
func splitHeader(msg []byte) (head, body []byte) {
	for i := 0; i < len(msg); {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return msg, nil
		}
		line := msg[i : i+j+1]
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			return msg[:i], msg[i:]
		}
		i += j + 1
	}
	return msg, nil
}

// lines splits b after each '\n'; the last line may lack it.
func lines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

// appendQuoted appends a line with mboxrd quoting: ">From " for
// "From ", ">>From " for ">From ", and so on.
func appendQuoted(dst, line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if bytes.HasPrefix(line[i:], []byte("From ")) {
		dst = append(dst, '>')
	}
	return append(dst, line...)
}

func isDropped(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return false
	}
	name = bytes.TrimRight(name, " \t")
	for _, d := range droppedHeaders {
		if strings.EqualFold(string(name), d) {
			return true
		}
	}
	return false
}

// mboxFlags maps Maildir flags to Status and X-Status. Maildir's P
// (passed) has no mbox letter.
func mboxFlags(it *catalog.Item) (status, xstatus string) {
	has := func(c byte) bool { return strings.IndexByte(it.Flags, c) >= 0 }
	if has('S') {
		status += "R"
	}
	if it.Subdir == "cur" {
		status += "O"
	}
	for _, m := range []struct{ maildir, mbox byte }{{'R', 'A'}, {'F', 'F'}, {'D', 'T'}, {'T', 'D'}} {
		if has(m.maildir) {
			xstatus += string(m.mbox)
		}
	}
	return status, xstatus
}

// mboxKeywords joins the keywords with spaces, leaving out the letters
// whose name the backup does not know ("?x").
func mboxKeywords(kws []string) string {
	var out []string
	for _, k := range kws {
		if k != "" && !strings.HasPrefix(k, "?") {
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

// envelopeSender is the address of a "From " line: the Return-Path, else
// the From address, else MAILER-DAEMON. Readers take that line as ASCII
// without spaces, so an address that is not printable ASCII is passed
// over.
func envelopeSender(msg []byte) string {
	head, _ := splitHeader(msg)
	if rp := strings.Trim(strings.TrimSpace(headerValue(head, "Return-Path")), "<>"); fromLineSafe(rp) {
		return rp
	}
	if from := headerValue(head, "From"); from != "" {
		if a, err := mail.ParseAddress(from); err == nil && fromLineSafe(a.Address) {
			return a.Address
		}
	}
	return "MAILER-DAEMON"
}

// fromLineSafe reports whether s is non-empty printable ASCII without
// spaces.
func fromLineSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// headerValue returns the first field of that name in a header, unfolded.
func headerValue(head []byte, name string) string {
	var b strings.Builder
	in := false
	for _, line := range lines(head) {
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if in {
				b.WriteString(strings.TrimRight(string(line), "\r\n"))
			}
			continue
		}
		if in {
			break
		}
		n, v, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(strings.TrimSpace(string(n)), name) {
			in = true
			b.WriteString(strings.TrimRight(string(v), "\r\n"))
		}
	}
	return strings.TrimSpace(b.String())
}
