package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/secret"
	"github.com/mailkeep/mailkeep/schema"
)

// targetFlags are the flags that name an agent (TARGET in PRODUCT.md):
// -agent URL, or -server NAME resolved through the policy in -policy PATH;
// with neither, the local agent's default socket.
type targetFlags struct {
	agent, server, policy string
	tokenFile, caFile     string
	vars                  varFlags
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.agent, "agent", "", "agent URL: unix:///path, http://host:port or https://host:port")
	fs.StringVar(&t.server, "server", "", "server NAME from the policy (see -policy)")
	fs.StringVar(&t.policy, "policy", ".", "policy PATH used to resolve -server")
	fs.StringVar(&t.tokenFile, "token-file", "", "file holding the agent's token (with -agent)")
	fs.StringVar(&t.caFile, "ca-file", "", "PEM bundle to verify an https agent (with -agent)")
	t.vars.register(fs)
}

// connect resolves the target to a client.
func (t *targetFlags) connect(c *cli, cmd string) (*client.Client, bool) {
	if t.agent != "" && t.server != "" {
		fmt.Fprintf(c.stderr, "mailkeep %s: give -agent or -server, not both\n", cmd)
		return nil, false
	}
	target := client.Target{URL: schema.DefaultAgentAddress, CAFile: t.caFile}
	switch {
	case t.agent != "":
		if err := schema.CheckAddress(t.agent); err != nil {
			fmt.Fprintf(c.stderr, "mailkeep %s: -agent: %v\n", cmd, err)
			return nil, false
		}
		target.URL = t.agent
	case t.server != "":
		p := c.loadPolicy(t.policy, t.vars.args, false)
		if p == nil {
			return nil, false
		}
		s, ok := p.Server(t.server)
		if !ok {
			fmt.Fprintf(c.stderr, "mailkeep %s: the policy in %s has no server %q; it has %s\n", cmd, t.policy, t.server, serverList(p))
			return nil, false
		}
		target.URL = s.Client.Address
		if t.caFile == "" {
			target.CAFile = s.Client.CAFile
		}
		if t.tokenFile == "" && s.Client.TokenFile != "" {
			t.tokenFile = s.Client.TokenFile
		}
		if s.Client.TokenEnv != "" && t.tokenFile == "" {
			tok, err := tokenFromEnv(c.environ, s.Client.TokenEnv, s.Client.TokenEnv)
			if err != nil {
				fmt.Fprintf(c.stderr, "mailkeep %s: server %q %v\n", cmd, t.server, err)
				return nil, false
			}
			target.Token = tok
		}
	}
	if t.tokenFile != "" {
		tok, err := secret.ReadToken(t.tokenFile)
		if err != nil {
			fmt.Fprintf(c.stderr, "mailkeep %s: the token file: %v\n", cmd, err)
			return nil, false
		}
		target.Token = tok
	}
	cl, err := client.New(target)
	if err != nil {
		fmt.Fprintf(c.stderr, "mailkeep %s: %v\n", cmd, err)
		return nil, false
	}
	return cl, true
}

// tokenFromEnv takes a token from the environment variable name, shown
// as shown in messages (redacted when sensitive); the error completes
// "server X ...".
func tokenFromEnv(environ []string, name, shown string) (string, error) {
	tok, ok := lookupEnv(environ, name)
	if !ok || strings.TrimSpace(tok) == "" {
		return "", fmt.Errorf("takes its token from the environment variable %s, which is not set", shown)
	}
	tok = strings.TrimSpace(tok)
	if err := secret.CheckToken(tok, "the environment variable "+shown); err != nil {
		return "", fmt.Errorf("takes its token from the environment variable %s: %v", shown, err)
	}
	return tok, nil
}

func lookupEnv(environ []string, name string) (string, bool) {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}
