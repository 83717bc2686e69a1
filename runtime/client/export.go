package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// ExportStream is an export being received from the agent.
type ExportStream struct {
	// Body is the stream: an mbox or a tar archive (ContentType). Read it
	// to the end, then call Summary.
	Body        io.ReadCloser
	ContentType string
	// Operation is the id of the export operation on the agent.
	Operation string
	// At is the instant exported; Messages how many messages it holds.
	At       time.Time
	Messages int

	c       *Client
	trailer func() string
}

// Export starts an export of an account (or of one folder when folder is
// not "") as it was at the instant at ("" for the last state).
func (c *Client) Export(ctx context.Context, account, folder, format, at string) (*ExportStream, error) {
	q := api.ExportRequest{Account: account, Folder: folder, Format: format, At: at}.Values()
	resp, err := c.send(ctx, "GET", "/backup/accounts/"+url.PathEscape(account)+"/export?"+q.Encode(), nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, c.apiError(resp.StatusCode, data)
	}
	s := &ExportStream{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), Operation: resp.Header.Get(api.HeaderOperation), c: c,
		trailer: func() string { return resp.Trailer.Get(api.HeaderExportResult) }}
	s.At, _ = time.Parse(time.RFC3339Nano, resp.Header.Get(api.HeaderExportAt))
	s.Messages, _ = strconv.Atoi(resp.Header.Get(api.HeaderExportItems))
	return s, nil
}

// ErrCut is returned by Summary when the stream ended before the agent
// said it was complete (cancelled, failed, or the connection broke).
var ErrCut = errors.New("the export stream was cut before its end")

// Summary returns the agent's summary of a stream read to its end (it
// reads what is left). When
// the stream was cut it returns ErrCut with the operation's error, as the
// agent recorded it.
func (s *ExportStream) Summary(ctx context.Context) (*api.ExportSummary, error) {
	// The trailer comes after the body: a tar reader stops at the archive's
	// end marker, before it.
	_, _ = io.Copy(io.Discard, s.Body)
	if t := s.trailer(); t != "" {
		var sum api.ExportSummary
		if err := json.Unmarshal([]byte(t), &sum); err != nil {
			return nil, fmt.Errorf("agent %s: bad export summary %q: %w", s.c.name, t, err)
		}
		return &sum, nil
	}
	why := ""
	if op, err := s.c.Operation(ctx, s.Operation, 5*time.Second); err == nil && op.State != api.StateRunning {
		why = fmt.Sprintf(": operation %s %s", op.ID, op.State)
		if op.Error != "" && op.Error != op.State {
			why += ": " + op.Error
		}
	}
	return nil, fmt.Errorf("agent %s: %w%s", s.c.name, ErrCut, why)
}
