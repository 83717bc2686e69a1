package api

import (
	"reflect"
	"strings"
	"time"
)

// StatusSettings returns, for every field of Status that shows a
// setting's value, its JSON path in the status ("purge.enabled",
// "location") and the setting ("purge.enabled", "remote.enabled"), so
// that a client can redact the fields whose settings are sensitive. It is
// read from the setting tags of Status: a tag names the setting; on a
// field holding a struct it is the prefix of that struct's tags that
// begin with a dot (JobStatus serves both smartscan and purge).
func StatusSettings() map[string]string {
	out := map[string]string{}
	statusSettings(reflect.TypeFor[Status](), "", "", out)
	return out
}

// statusSettings adds the settings shown by the fields of struct type t,
// found at JSON path at under the setting prefix prefix.
func statusSettings(t reflect.Type, at, prefix string, out map[string]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		path := at
		if name != "" || !f.Anonymous {
			if name == "" {
				name = f.Name
			}
			path = joinPath(at, name)
		}
		setting := f.Tag.Get("setting")
		if rel, ok := strings.CutPrefix(setting, "."); ok {
			if prefix == "" {
				panic("api: status field " + path + " has the relative setting tag " + setting + " outside a prefix")
			}
			setting = prefix + "." + rel
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]() {
			sub := prefix
			if setting != "" {
				sub = setting
			}
			statusSettings(f.Type, path, sub, out)
			continue
		}
		if setting != "" {
			out[path] = setting
		}
	}
}

func joinPath(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}
