package reconcile

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/mailkeep/mailkeep/schema"
)

// Target says how to reach a server's agent. It holds references only
// (a token file path or an environment variable name), never a token.
type Target struct {
	// Address is http(s)://host:port or unix:///path.
	Address string
	// TokenFile and TokenEnv say where the token is read, on the machine
	// that runs plan and apply.
	TokenFile, TokenEnv string
	// CAFile verifies an https agent's certificate.
	CAFile string
	// Protect refuses destructive changes even with -allow-destructive.
	Protect bool
	// Sensitive lists the fields ("address", "token_file", "token_env",
	// "ca_file") whose values derive from sensitive variables.
	Sensitive []string
}

// TargetOf returns the target of a server of the policy.
func TargetOf(s *schema.Server) Target {
	t := Target{Address: s.Client.Address, TokenFile: s.Client.TokenFile, TokenEnv: s.Client.TokenEnv,
		CAFile: s.Client.CAFile, Protect: s.Client.Protect}
	for _, f := range []string{"address", "token_file", "token_env", "ca_file"} {
		if s.Client.Fields[f].Sensitive {
			t.Sensitive = append(t.Sensitive, f)
		}
	}
	return t
}

// Shown returns a client field's value as outputs show it: redacted when
// sensitive.
func (t Target) Shown(field string) string {
	if slices.Contains(t.Sensitive, field) {
		return Redacted
	}
	switch field {
	case "address":
		return t.Address
	case "token_file":
		return t.TokenFile
	case "token_env":
		return t.TokenEnv
	case "ca_file":
		return t.CAFile
	}
	return ""
}

// Select returns the servers whose names match one of targets (all when
// none is given) and none of excludes; patterns are shell globs
// (path.Match). A pattern that is malformed, or a -target that matches no
// server, is an error.
func Select(servers []*schema.Server, targets, excludes []string) ([]*schema.Server, error) {
	for _, p := range append(slices.Clone(targets), excludes...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("the pattern %q is not a valid glob: %v", p, err)
		}
	}
	for _, p := range targets {
		hit := false
		for _, s := range servers {
			if ok, _ := path.Match(p, s.Name); ok {
				hit = true
				break
			}
		}
		if !hit {
			return nil, fmt.Errorf("-target %q matches no server of the policy (%s)", p, names(servers))
		}
	}
	var out []*schema.Server
	for _, s := range servers {
		if matchAny(targets, s.Name, true) && !matchAny(excludes, s.Name, false) {
			out = append(out, s)
		}
	}
	return out, nil
}

func matchAny(patterns []string, name string, empty bool) bool {
	if len(patterns) == 0 {
		return empty
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// names lists server names for messages, at most ten.
func names(servers []*schema.Server) string {
	if len(servers) == 0 {
		return "it has none"
	}
	var out []string
	for i, s := range servers {
		if i == 10 {
			out = append(out, fmt.Sprintf("and %d more", len(servers)-10))
			break
		}
		out = append(out, s.Name)
	}
	return "servers: " + strings.Join(out, ", ")
}
