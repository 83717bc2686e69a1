package client

import (
	"context"
	"net/url"

	"github.com/mailkeep/mailkeep/runtime/history"
)

// History returns an account's significant events from since on ("" for
// all), as the agent reads instants.
func (c *Client) History(ctx context.Context, account, since string) ([]history.Event, error) {
	path := "/backup/accounts/" + url.PathEscape(account) + "/history"
	if since != "" {
		path += "?" + url.Values{"since": {since}}.Encode()
	}
	var out struct {
		Events []history.Event `json:"events"`
	}
	if _, err := c.do(ctx, "GET", path, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

// Diff returns what changed in an account between two instants (to: ""
// for now).
func (c *Client) Diff(ctx context.Context, account, from, to string) (*history.Diff, error) {
	q := url.Values{"from": {from}}
	if to != "" {
		q.Set("to", to)
	}
	var out history.Diff
	if _, err := c.do(ctx, "GET", "/backup/accounts/"+url.PathEscape(account)+"/diff?"+q.Encode(), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
