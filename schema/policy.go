package schema

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Policy is a loaded, validated policy: every server's effective
// configuration plus what is needed to report on it.
type Policy struct {
	// Dir is the directory the policy was loaded from.
	Dir string
	// Files are the parsed source files (policy and variable files), keyed
	// by the name used in diagnostics; diagnostic renderers read snippets
	// from them.
	Files map[string]*hcl.File
	// Variables are the declared input variables with their final values.
	Variables []*Variable
	// Servers are the servers, sorted by name, for_each instances expanded.
	Servers []*Server
}

// Server returns the server with the given name.
func (p *Policy) Server(name string) (*Server, bool) {
	i := sort.Search(len(p.Servers), func(i int) bool { return p.Servers[i].Name >= name })
	if i < len(p.Servers) && p.Servers[i].Name == name {
		return p.Servers[i], true
	}
	return nil, false
}

// OriginKind says which layer a value came from.
type OriginKind string

// The layers a value can come from, from weakest to strongest.
const (
	FromDefault OriginKind = "default"
	FromGlobal  OriginKind = "global"
	FromServer  OriginKind = "server"
)

// Origin says where an effective value came from.
type Origin struct {
	Kind OriginKind
	// Range is the attribute that set the value; zero for defaults.
	Range hcl.Range
	// Vars are the variables and locals the value was computed from, such
	// as "var.backup_root" or "local.store"; sorted.
	Vars []string
	// Sensitive is true when the value derives from a sensitive variable;
	// it must then be redacted in every output.
	Sensitive bool
}

// Value is one effective setting value and its origin.
type Value struct {
	Setting *Setting
	// Val is the value converted to the setting's type, unmarked.
	Val    cty.Value
	Origin Origin
}

// Client holds a server's client-side fields: how plan and apply reach its
// agent. They are never sent to the agent.
type Client struct {
	// Address is http(s)://host:port or unix:///path.
	Address string
	// TokenFile is the path of a file holding the agent's token on the
	// machine that runs plan and apply.
	TokenFile string
	// TokenEnv names an environment variable holding the agent's token.
	TokenEnv string
	// CAFile is a PEM bundle to verify the agent's TLS certificate.
	CAFile string
	// Protect refuses destructive changes to this server even when apply is
	// given -allow-destructive.
	Protect bool
	// Fields records the origin of each client field that was set, keyed by
	// attribute name.
	Fields map[string]Origin
}

// DefaultAgentAddress is where the agent listens when started with its
// defaults, and where plan looks when a server sets no address.
const DefaultAgentAddress = "unix:///run/mailkeep/agent.sock"

// Server is one server's effective configuration.
type Server struct {
	// Name is the server's name: the block label, or LABEL.KEY for an
	// instance of a block with for_each.
	Name string
	// Label is the block label; Key is the for_each key, or "".
	Label, Key string
	// DeclRange is the block header's range.
	DeclRange hcl.Range
	Client    Client
	values    map[string]Value
}

// Value returns the effective value of a setting by path.
func (s *Server) Value(path string) Value { return s.values[path] }

// Values returns every effective value in settings order.
func (s *Server) Values() []Value {
	out := make([]Value, 0, len(settings))
	for _, st := range settings {
		out = append(out, s.values[st.Path])
	}
	return out
}

// Variable is a declared input variable and its final value.
type Variable struct {
	Name        string
	Type        cty.Type
	Default     cty.Value
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
	// Value is the final value, converted to Type and unmarked.
	Value cty.Value
	// Source says what set Value: "default", "-var", "-var-file FILE",
	// "FILE:LINE" or "environment variable MAILKEEP_VAR_NAME".
	Source string

	validations []variableValidation
}

type variableValidation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}
