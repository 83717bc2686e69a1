package history

import (
	"github.com/mailkeep/mailkeep/runtime/catalog"
	"github.com/mailkeep/mailkeep/runtime/mailheader"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// FromRepo returns Summaries from the headers recorded at backup time
// (catalog.HeadersOf); a message whose headers are not indexed yet (a
// repository made before they were) is read from the packs and parsed the
// same way. A message that cannot be read is left without a summary
// rather than failing the listing.
func FromRepo(r *repo.Repo) Summaries {
	return func(ids []catalog.BlobID) (map[catalog.BlobID]Summary, error) {
		hs, err := r.Catalog.HeadersOf(ids)
		if err != nil {
			return nil, err
		}
		out := make(map[catalog.BlobID]Summary, len(ids))
		var buf []byte
		for _, id := range ids {
			h, ok := hs[id]
			if !ok {
				if buf, err = r.AppendBlob(buf[:0], id); err != nil {
					continue
				}
				h = mailheader.Parse(buf)
			}
			out[id] = summary(h)
		}
		return out, nil
	}
}

func summary(h catalog.Headers) Summary {
	s := Summary{Sender: h.From, Subject: h.Subject}
	if h.Date != 0 {
		s.Date = tp(h.Date)
	}
	return s
}
