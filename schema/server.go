package schema

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// serverNameRE is what server names and for_each keys may look like: they
// must work unescaped in -target globs, file names and URLs.
var serverNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

const maxServerName = 200

var serverSchema = settingsSchema(append(clientFields, hcl.AttributeSchema{Name: "for_each"})...)

var globalSchema = settingsSchema(clientFields...)

// decodeGlobal decodes the global block.
func (l *loader) decodeGlobal(b *hcl.Block) map[string]Value {
	content, diags := b.Body.Content(globalSchema)
	l.diags = append(l.diags, diags...)
	for _, f := range clientFields {
		if a, ok := content.Attributes[f.Name]; ok {
			l.errorf(a.NameRange, "Client-side field in global block",
				"%s says how plan and apply reach one agent, so it belongs in each server block, not in global; use for_each to declare a fleet that shares it.", f.Name)
		}
	}
	return l.decodeSettings(content, l.evalContext(), FromGlobal)
}

// instance is one expansion of a server block.
type instance struct {
	key   string
	value cty.Value
}

// decodeServer decodes a server block into one server, or one per key of
// its for_each.
func (l *loader) decodeServer(b *hcl.Block) []*Server {
	label := b.Labels[0]
	if !serverNameRE.MatchString(label) || len(label) > maxServerName {
		l.errorf(b.LabelRanges[0], "Invalid server name",
			"%q is not a valid server name: use letters, digits, '.', '-' and '_', starting with a letter or digit.", label)
		return nil
	}
	content, diags := b.Body.Content(serverSchema)
	l.diags = append(l.diags, diags...)

	base := l.evalContext()
	instances := []instance{{}}
	if a, ok := content.Attributes["for_each"]; ok {
		var ok bool
		if instances, ok = l.forEach(label, a, base); !ok {
			return nil
		}
	}
	var out []*Server
	for _, in := range instances {
		ctx := base
		name := label
		if _, ok := content.Attributes["for_each"]; ok {
			name = label + "." + in.key
			ctx = base.NewChild()
			ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
				"key": cty.StringVal(in.key), "value": in.value,
			})}
		}
		s := &Server{Name: name, Label: label, Key: in.key, DeclRange: b.DefRange, values: l.decodeSettings(content, ctx, FromServer)}
		s.Client = l.decodeClient(name, content, ctx)
		out = append(out, s)
	}
	return out
}

// forEach evaluates a server block's for_each: a map or object (keys name
// the instances) or a set of strings.
func (l *loader) forEach(label string, a *hcl.Attribute, ctx *hcl.EvalContext) ([]instance, bool) {
	val, diags := a.Expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, false
	}
	rng := a.Expr.Range()
	if val.HasMark(sensitiveMark) || val.ContainsMarked() {
		l.errorf(rng, "Sensitive for_each", "for_each of server %q derives from a sensitive variable; its keys become server names shown everywhere, so they cannot be sensitive.", label)
		return nil, false
	}
	if !val.IsWhollyKnown() {
		return nil, false
	}
	if val.IsNull() {
		l.errorf(rng, "Invalid for_each", "for_each of server %q is null; give a map, an object or a set of strings.", label)
		return nil, false
	}
	ty := val.Type()
	var out []instance
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := val.ElementIterator(); it.Next(); {
			k, v := it.Element()
			out = append(out, instance{key: k.AsString(), value: v})
		}
	case ty.IsSetType():
		sv, err := convert.Convert(val, cty.Set(cty.String))
		if err != nil {
			l.errorf(rng, "Invalid for_each", "for_each of server %q is a set of %s; a set must hold strings.", label, ty.ElementType().FriendlyName())
			return nil, false
		}
		for it := sv.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if v.IsNull() {
				l.errorf(rng, "Invalid for_each", "for_each of server %q holds a null element.", label)
				return nil, false
			}
			out = append(out, instance{key: v.AsString(), value: v})
		}
	default:
		l.errorf(rng, "Invalid for_each",
			"for_each of server %q is %s; give a map, an object or a set of strings (use toset() for a list).", label, ty.FriendlyName())
		return nil, false
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	for _, in := range out {
		if !serverNameRE.MatchString(in.key) || len(label)+1+len(in.key) > maxServerName {
			l.errorf(rng, "Invalid for_each key",
				"The key %q of server %q cannot be part of a server name (%s.%s): use letters, digits, '.', '-' and '_', starting with a letter or digit.",
				in.key, label, label, in.key)
			return nil, false
		}
	}
	return out, true
}

// decodeClient decodes a server's client-side fields.
func (l *loader) decodeClient(name string, content *hcl.BodyContent, ctx *hcl.EvalContext) Client {
	c := Client{Address: DefaultAgentAddress, Fields: map[string]Origin{}}
	bad := map[string]bool{} // fields that were set but are invalid, reported
	str := func(field string, chk func(string) error) (string, bool) {
		a, ok := content.Attributes[field]
		if !ok {
			return "", false
		}
		val, diags := a.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() || !val.IsWhollyKnown() {
			bad[field] = true
			return "", false
		}
		val, marks := val.UnmarkDeep()
		origin := Origin{Kind: FromServer, Range: a.Range, Vars: l.references(a.Expr)}
		_, origin.Sensitive = marks[sensitiveMark]
		if val.IsNull() {
			return "", false
		}
		wantBool := field == "protect"
		ty := cty.String
		if wantBool {
			ty = cty.Bool
		}
		cv, err := convert.Convert(val, ty)
		if err != nil {
			l.errorf(a.Expr.Range(), "Incorrect value type", "%s of server %q must be %s: %s.", field, name, friendlyType(ty), err)
			bad[field] = true
			return "", false
		}
		c.Fields[field] = origin
		if wantBool {
			if cv.True() {
				return "true", true
			}
			return "false", true
		}
		s := cv.AsString()
		if chk != nil {
			if err := chk(s); err != nil {
				if origin.Sensitive {
					err = fmt.Errorf("the value of %s is not valid; it comes from a sensitive variable, so it is not shown", field)
				}
				l.errorf(a.Expr.Range(), "Invalid "+field, "Server %q: %s.", name, err)
				bad[field] = true
				return "", false
			}
		}
		return s, true
	}
	if s, ok := str("address", CheckAddress); ok {
		c.Address = s
	} else if bad["address"] {
		// Not the default agent: checks that compare addresses skip it
		// rather than report a second error.
		c.Address = ""
	}
	if s, ok := str("token_file", nonEmpty("token_file")); ok {
		c.TokenFile = s
	}
	if s, ok := str("token_env", checkEnvName); ok {
		c.TokenEnv = s
	}
	if s, ok := str("ca_file", nonEmpty("ca_file")); ok {
		c.CAFile = s
	}
	if s, ok := str("protect", nil); ok {
		c.Protect = s == "true"
	}
	if c.TokenFile != "" && c.TokenEnv != "" {
		l.errorf(content.Attributes["token_env"].NameRange, "Conflicting token references",
			"Server %q sets both token_file and token_env; keep one.", name)
	}
	if c.CAFile != "" && c.Address != "" && !strings.HasPrefix(strings.ToLower(c.Address), "https://") {
		l.errorf(content.Attributes["ca_file"].NameRange, "ca_file without TLS",
			"Server %q sets ca_file but its address %q is not https://.", name, c.Address)
	}
	return c
}

func nonEmpty(field string) func(string) error {
	return func(s string) error {
		if s == "" {
			return fmt.Errorf("%s is empty", field)
		}
		return nil
	}
}

func checkEnvName(s string) error {
	if !envNameRE.MatchString(s) {
		return fmt.Errorf("%q is not an environment variable name; token_env names the variable that holds the token, it is not the token", s)
	}
	return nil
}

// CheckAddress validates an agent address: http://HOST[:PORT],
// https://HOST[:PORT] or unix:///ABSOLUTE/PATH.
func CheckAddress(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		if !strings.Contains(s, "://") {
			return fmt.Errorf("the address %q has no scheme; use https://host:port, http://host:port or unix:///path", s)
		}
		return fmt.Errorf("the address %q is not a URL; use http(s)://host:port or unix:///path", s)
	}
	switch u.Scheme {
	case "unix":
		if !strings.HasPrefix(s, "unix:///") {
			return fmt.Errorf("the address %q is not unix:///absolute/path (three slashes, then the socket's absolute path)", s)
		}
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("the address %q is not unix:///absolute/path (three slashes, then the socket's absolute path)", s)
		}
	case "http", "https":
		if u.User != nil {
			return fmt.Errorf("the address carries credentials; pass the token with token_file or token_env")
		}
		if u.Host == "" || u.Hostname() == "" {
			return fmt.Errorf("the address %q has no host; use %s://host:port", s, u.Scheme)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("the address %q has an invalid port %q", s, p)
			}
		} else if strings.HasSuffix(u.Host, ":") {
			return fmt.Errorf("the address %q has an empty port", s)
		}
		if strings.Contains(u.Hostname(), " ") || (strings.Contains(u.Hostname(), ":") && net.ParseIP(u.Hostname()) == nil) {
			return fmt.Errorf("the address %q has an invalid host", s)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("the address %q has a path, query or fragment; give only %s://host:port", s, u.Scheme)
		}
	default:
		if !strings.Contains(s, "://") {
			// "host:port" parses as scheme "host".
			return fmt.Errorf("the address %q has no scheme; use https://host:port, http://host:port or unix:///path", s)
		}
		return fmt.Errorf("the address %q has scheme %q; use http://, https:// or unix://", s, u.Scheme)
	}
	return nil
}
