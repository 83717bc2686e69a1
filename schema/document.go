package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// DocumentFormatVersion is the version of the agent config document this
// mailkeep writes. Documents of this version or older are read, missing
// settings taking their defaults.
const DocumentFormatVersion = 1

// Document is the agent's config document: one server's effective settings
// as values only, every setting present.
type Document struct {
	values map[string]cty.Value
}

// NewDocument builds the config document of a server's effective config.
func NewDocument(s *Server) *Document {
	d := &Document{values: make(map[string]cty.Value, len(settings))}
	for _, st := range settings {
		d.values[st.Path] = s.values[st.Path].Val
	}
	return d
}

// Get returns a setting's value by path.
func (d *Document) Get(path string) cty.Value { return d.values[path] }

// Map returns the document as nested JSON-ready values, including
// format_version.
func (d *Document) Map() map[string]any {
	root := map[string]any{"format_version": DocumentFormatVersion}
	for _, st := range settings {
		v := jsonValue(d.values[st.Path])
		if b := st.Block(); b != "" {
			m, _ := root[b].(map[string]any)
			if m == nil {
				m = map[string]any{}
				root[b] = m
			}
			m[st.Attr()] = v
		} else {
			root[st.Path] = v
		}
	}
	return root
}

// Canonical returns the document as canonical JSON: keys sorted, no
// insignificant white space, no HTML escaping, integers without exponent.
func (d *Document) Canonical() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d.Map()); err != nil {
		panic(fmt.Sprintf("schema: encoding a config document: %v", err)) // only JSON-safe values are stored
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// ETag returns the hex SHA-256 of the canonical JSON.
func (d *Document) ETag() string {
	sum := sha256.Sum256(d.Canonical())
	return hex.EncodeToString(sum[:])
}

// Equal reports whether two documents hold the same values.
func (d *Document) Equal(o *Document) bool {
	return bytes.Equal(d.Canonical(), o.Canonical())
}

// jsonValue converts a setting value to its JSON form.
func jsonValue(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	switch {
	case v.Type() == cty.String:
		return v.AsString()
	case v.Type() == cty.Bool:
		return v.True()
	case v.Type() == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			i, _ := bf.Int64()
			return i
		}
		f, _ := bf.Float64()
		return f
	case v.Type().IsListType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, jsonValue(e))
		}
		return out
	}
	panic(fmt.Sprintf("schema: no JSON form for %s", v.Type().FriendlyName()))
}

// MaxDocumentBytes bounds a config document (a few KB in practice), as
// the agent bounds the bodies it reads. encoding/json bounds its nesting
// (10,000 levels), and a setting's value nests no deeper than a list.
const MaxDocumentBytes = 1 << 20

// DecodeDocument reads a config document, as stored by an agent or sent to
// it. Settings it lacks take their defaults, so that documents written
// before a setting existed compare equal to ones that spell the default
// out. Every value is type-checked and validated like policy values.
func DecodeDocument(data []byte) (*Document, error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("config document: %d bytes, more than the %s a document may have", len(data), byteCount(MaxDocumentBytes))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("config document: not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("config document: trailing data after the JSON object")
	}
	fv, ok := root["format_version"].(json.Number)
	if !ok {
		return nil, fmt.Errorf("config document: format_version is missing or not a number")
	}
	ver, err := fv.Int64()
	if err != nil || ver < 1 {
		return nil, fmt.Errorf("config document: format_version %s is not a positive integer", fv)
	}
	if ver > DocumentFormatVersion {
		return nil, fmt.Errorf("config document: format_version %d was written by a newer mailkeep (this one reads up to %d)", ver, DocumentFormatVersion)
	}
	d := &Document{values: make(map[string]cty.Value, len(settings))}
	known := map[string]bool{"format_version": true}
	for _, st := range settings {
		raw, present := lookupJSON(root, st)
		known[st.Path] = true
		if b := st.Block(); b != "" {
			known[b] = true
		}
		if !present {
			if st.Required() {
				return nil, fmt.Errorf("config document: %s is required", st.Path)
			}
			d.values[st.Path] = st.Default
			continue
		}
		v, err := ctyFromJSON(raw, st.Type)
		if err != nil {
			return nil, fmt.Errorf("config document: %s: %v", st.Path, err)
		}
		for _, chk := range st.Checks {
			if diag := chk(v); diag != nil {
				return nil, fmt.Errorf("config document: %s: %s", st.Path, strings.TrimSuffix(diag.Detail, "."))
			}
		}
		d.values[st.Path] = v
	}
	if err := unknownKeys(root, known); err != nil {
		return nil, err
	}
	if err := checkBackupPathStore(d.values["backup_path"].AsString(), d.values["mail_store"].AsString()); err != nil {
		return nil, fmt.Errorf("config document: %v", err)
	}
	return d, nil
}

// lookupJSON finds a setting in a decoded document.
func lookupJSON(root map[string]any, st *Setting) (any, bool) {
	b := st.Block()
	if b == "" {
		v, ok := root[st.Path]
		return v, ok && v != nil
	}
	m, ok := root[b].(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[st.Attr()]
	return v, ok && v != nil
}

// unknownKeys rejects keys that name no setting.
func unknownKeys(root map[string]any, known map[string]bool) error {
	var unknown []string
	for k, v := range root {
		if !known[k] {
			unknown = append(unknown, k)
			continue
		}
		if m, ok := v.(map[string]any); ok {
			for ik := range m {
				if !known[k+"."+ik] {
					unknown = append(unknown, k+"."+ik)
				}
			}
		} else if v != nil && nestedBlockNamed(k) {
			return fmt.Errorf("config document: %s must be an object", k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config document: unknown setting %s", strings.Join(unknown, ", "))
	}
	return nil
}

func nestedBlockNamed(name string) bool {
	for _, b := range nestedBlocks {
		if b == name {
			return true
		}
	}
	return false
}

// ctyFromJSON converts a decoded JSON value to a setting value.
func ctyFromJSON(raw any, ty cty.Type) (cty.Value, error) {
	switch {
	case ty == cty.String:
		s, ok := raw.(string)
		if !ok {
			return cty.NilVal, fmt.Errorf("want a string, got %s", jsonKind(raw))
		}
		return cty.StringVal(s), nil
	case ty == cty.Bool:
		b, ok := raw.(bool)
		if !ok {
			return cty.NilVal, fmt.Errorf("want true or false, got %s", jsonKind(raw))
		}
		return cty.BoolVal(b), nil
	case ty == cty.Number:
		n, ok := raw.(json.Number)
		if !ok {
			return cty.NilVal, fmt.Errorf("want a number, got %s", jsonKind(raw))
		}
		bf, _, err := big.ParseFloat(n.String(), 10, 512, big.ToNearestEven)
		if err != nil {
			return cty.NilVal, fmt.Errorf("want a number, got %s", n)
		}
		return cty.NumberVal(bf), nil
	case ty.IsListType():
		list, ok := raw.([]any)
		if !ok {
			return cty.NilVal, fmt.Errorf("want a list, got %s", jsonKind(raw))
		}
		if len(list) == 0 {
			return cty.ListValEmpty(ty.ElementType()), nil
		}
		elems := make([]cty.Value, len(list))
		for i, e := range list {
			v, err := ctyFromJSON(e, ty.ElementType())
			if err != nil {
				return cty.NilVal, fmt.Errorf("element %d: %v", i, err)
			}
			elems[i] = v
		}
		return cty.ListVal(elems), nil
	}
	return cty.NilVal, fmt.Errorf("unsupported type %s", ty.FriendlyName())
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// setting returns the value of the setting at path, which must be a
// setting of type ty: a path that names no setting, or one of another
// type, is a programming error and panics, so that it fails in every test
// that reaches it instead of reading a silent zero. Code that acts on
// settings it knows by name uses Config.
func (d *Document) setting(path string, ty cty.Type) cty.Value {
	st, ok := LookupSetting(path)
	if !ok {
		panic(fmt.Sprintf("schema: no setting %q", path))
	}
	if !st.Type.Equals(ty) {
		panic(fmt.Sprintf("schema: setting %s is %s, not %s", path, st.Type.FriendlyName(), ty.FriendlyName()))
	}
	return d.values[path]
}

// String returns the value of the string setting at path, for code that
// handles settings by path (the impact rules); it panics on a path that
// is not a string setting.
func (d *Document) String(path string) string {
	v := d.setting(path, cty.String)
	if v.IsNull() {
		return ""
	}
	return v.AsString()
}

// Bool returns the value of the bool setting at path; it panics on a path
// that is not a bool setting.
func (d *Document) Bool(path string) bool {
	v := d.setting(path, cty.Bool)
	return !v.IsNull() && v.True()
}

// Int returns the value of the whole-number setting at path; it panics on
// a path that is not a number setting.
func (d *Document) Int(path string) int64 {
	v := d.setting(path, cty.Number)
	if v.IsNull() {
		return 0
	}
	i, _ := v.AsBigFloat().Int64()
	return i
}

// Strings returns the value of the list setting at path; it panics on a
// path that is not a list of strings.
func (d *Document) Strings(path string) []string {
	v := d.setting(path, cty.List(cty.String))
	if v.IsNull() {
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}
