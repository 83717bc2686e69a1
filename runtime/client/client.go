package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
)

// Target says how to reach an agent. Secrets are references: a token file
// or the token itself read from an environment variable by the caller.
type Target struct {
	// URL is http(s)://host:port or unix:///path.
	URL string
	// Token is sent as a bearer token when not empty.
	Token string
	// CAFile verifies an https agent's certificate.
	CAFile string
}

// Client is a connection to one agent.
type Client struct {
	base  string
	token string
	hc    *http.Client
	// name is the target's URL, for messages.
	name string
}

// New returns a client for the target.
func New(t Target) (*Client, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, fmt.Errorf("agent address %q: %w", t.URL, err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	c := &Client{token: t.Token, name: t.URL, hc: &http.Client{Transport: tr}}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		c.base = "http://agent"
	case "http", "https":
		c.base = strings.TrimRight(t.URL, "/")
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("reading ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s holds no PEM certificate", t.CAFile)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
	default:
		return nil, fmt.Errorf("agent address %q: use unix:///path, http://host:port or https://host:port", t.URL)
	}
	return c, nil
}

// Name returns the agent's address.
func (c *Client) Name() string { return c.name }

// APIError is an error response from the agent.
type APIError struct {
	Status  int
	Message string
	// Operation is the running operation when a start was refused.
	Operation *api.Operation
}

func (e *APIError) Error() string { return e.Message }

// ErrUnconfigured is returned by Config for an agent without config.
var ErrUnconfigured = errors.New("the agent has no config yet")

// Busy reports whether err says an operation of that kind is running.
func Busy(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict && ae.Operation != nil
}

// Conflict reports whether err is a revision conflict (stale If-Match).
func Conflict(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict
}

// do sends a request and decodes a JSON response into out.
func (c *Client) do(ctx context.Context, method, path string, hdr http.Header, body []byte, out any) (http.Header, error) {
	resp, err := c.send(ctx, method, path, hdr, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("agent %s: reading the response: %w", c.name, err)
	}
	if resp.StatusCode >= 300 {
		return resp.Header, c.apiError(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("agent %s: bad response: %w", c.name, err)
		}
	}
	return resp.Header, nil
}

// send sends a request and returns the response, whatever its status.
func (c *Client) send(ctx context.Context, method, path string, hdr http.Header, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+api.Version+path, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", c.name, unwrapURL(err))
	}
	return resp, nil
}

// apiError decodes an error response.
func (c *Client) apiError(status int, data []byte) error {
	var ae api.Error
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &ae) == nil && ae.Error != "" {
		msg = ae.Error
	}
	return &APIError{Status: status, Message: fmt.Sprintf("agent %s: %s", c.name, msg), Operation: ae.Operation}
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Config reads the live config; ErrUnconfigured when the agent has none.
func (c *Client) Config(ctx context.Context) (*api.ConfigState, error) {
	var cs api.ConfigState
	_, err := c.do(ctx, "GET", "/config", nil, nil, &cs)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, ErrUnconfigured
	}
	if err != nil {
		return nil, err
	}
	return &cs, nil
}

// PutConfig replaces the config. ifMatch is the ETag read before ("" for
// an unconfigured agent); clientName is recorded as last_applied when set.
func (c *Client) PutConfig(ctx context.Context, doc []byte, ifMatch, clientName string) (*api.ConfigState, error) {
	h := http.Header{}
	if ifMatch == "" {
		h.Set("If-None-Match", "*")
	} else {
		h.Set("If-Match", strconv.Quote(ifMatch))
	}
	if clientName != "" {
		h.Set(api.HeaderClient, clientName)
	}
	var cs api.ConfigState
	if _, err := c.do(ctx, "PUT", "/config", h, doc, &cs); err != nil {
		return nil, err
	}
	return &cs, nil
}

// Status reads the server listing.
func (c *Client) Status(ctx context.Context) (*api.Status, error) {
	var s api.Status
	if _, err := c.do(ctx, "GET", "/status", nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Start starts an operation.
func (c *Client) Start(ctx context.Context, req api.OperationRequest) (*api.Operation, error) {
	body, _ := json.Marshal(req)
	var op api.Operation
	if _, err := c.do(ctx, "POST", "/operations", nil, body, &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// Operation reads an operation; with wait > 0 the agent answers when it
// ends or after wait, whichever comes first.
func (c *Client) Operation(ctx context.Context, id string, wait time.Duration) (*api.Operation, error) {
	path := "/operations/" + url.PathEscape(id)
	if wait > 0 {
		path += "?wait=" + wait.String()
	}
	var op api.Operation
	if _, err := c.do(ctx, "GET", path, nil, nil, &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// Cancel asks a running operation to stop.
func (c *Client) Cancel(ctx context.Context, id string) (*api.Operation, error) {
	var op api.Operation
	if _, err := c.do(ctx, "DELETE", "/operations/"+url.PathEscape(id), nil, nil, &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// Accounts lists the backed-up accounts, or one account.
func (c *Client) Accounts(ctx context.Context, account string) ([]api.AccountListing, error) {
	path := "/backup/accounts"
	if account != "" {
		path += "/" + url.PathEscape(account)
	}
	var out api.AccountList
	if _, err := c.do(ctx, "GET", path, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Accounts, nil
}
