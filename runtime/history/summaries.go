package history

import (
	"bufio"
	"bytes"
	"mime"
	"net/textproto"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// FromPacks returns Summaries that read each message from the packs and
// parse its header. A message that cannot be read or parsed is left
// without a summary rather than failing the listing.
func FromPacks(r *repo.Repo) Summaries {
	return func(ids []catalog.BlobID) (map[catalog.BlobID]Summary, error) {
		out := make(map[catalog.BlobID]Summary, len(ids))
		var buf []byte
		for _, id := range ids {
			ref, err := r.Catalog.Blob(id)
			if err != nil {
				continue
			}
			buf, err = r.Packs.AppendBlob(buf[:0], pack.ID(id), pack.Location{Pack: ref.Pack, Offset: ref.Offset, Length: ref.Length, Size: ref.Size})
			if err != nil {
				continue
			}
			out[id] = Summarise(buf)
		}
		return out, nil
	}
}

// Summarise reads the sender, subject and date of a message from its
// header; RFC 2047 encoded words are decoded.
func Summarise(msg []byte) Summary {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, _ := tp.ReadMIMEHeader() // a malformed header still gives what it read
	dec := &mime.WordDecoder{}
	get := func(name string) string {
		v := strings.TrimSpace(h.Get(name))
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		return v
	}
	return Summary{Sender: get("From"), Subject: get("Subject"), Date: get("Date")}
}
