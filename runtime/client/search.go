package client

import (
	"context"
	"net/url"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// Search searches an account's backup (GET
// /v1/backup/accounts/{account}/search).
func (c *Client) Search(ctx context.Context, req api.SearchRequest) (*api.SearchResponse, error) {
	path := "/backup/accounts/" + url.PathEscape(req.Account) + "/search"
	if q := req.Values().Encode(); q != "" {
		path += "?" + q
	}
	var out api.SearchResponse
	if _, err := c.do(ctx, "GET", path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
