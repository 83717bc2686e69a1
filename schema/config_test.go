package schema

import (
	"reflect"
	"testing"
)

func TestConfigCoversEverySetting(t *testing.T) {
	fields := map[string]bool{}
	for _, f := range configFields() {
		if fields[f.path] {
			t.Errorf("setting %s has two Config fields", f.path)
		}
		fields[f.path] = true
	}
	for _, st := range Settings() {
		if !fields[st.Path] {
			t.Errorf("setting %s has no field in Config: add one with `setting:%q`", st.Path, st.Attr())
		}
	}
}

// TestConfigValues checks that every Config field holds its setting's
// value, in a document where every setting differs from its default and in
// one of defaults only.
func TestConfigValues(t *testing.T) {
	for name, doc := range map[string]*Document{"full": fullDocument(t), "defaults": defaultDocument(t)} {
		c := doc.Config()
		v := reflect.ValueOf(c)
		for _, f := range configFields() {
			got := v.FieldByIndex(f.index).Interface()
			want := jsonValue(doc.Get(f.path))
			if w, ok := want.([]any); ok {
				list := make([]string, 0, len(w))
				for _, e := range w {
					list = append(list, e.(string))
				}
				want = list
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Config field for %s = %#v, document holds %#v", name, f.path, got, want)
			}
		}
	}
	full := fullDocument(t).Config()
	if full.Purge.ItemRetentionDays == DefaultItemRetentionDays || full.BackupPath == DefaultBackupPath {
		t.Errorf("full document's Config holds defaults: %+v", full)
	}
}

func TestConfigFieldsRefuseMismatches(t *testing.T) {
	type badPath struct {
		X string `setting:"no_such_setting"`
	}
	type badType struct {
		X int64 `setting:"backup_path"`
	}
	type noTag struct{ X string }
	for name, ty := range map[string]reflect.Type{"path": reflect.TypeFor[badPath](), "type": reflect.TypeFor[badType](), "tag": reflect.TypeFor[noTag]()} {
		var out []configField
		if err := walkConfig(ty, nil, "", &out); err == nil {
			t.Errorf("%s: walkConfig accepted a bad field", name)
		}
	}
}

func TestDocumentAccessorsPanicOnAWrongPath(t *testing.T) {
	doc := defaultDocument(t)
	for name, read := range map[string]func(){
		"unknown":    func() { doc.Bool("purge.enabeld") },
		"wrong type": func() { doc.Int("backup_path") },
		"list":       func() { doc.Strings("purge.schedule") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			read()
		}()
	}
	if got := doc.Strings("accounts.include"); len(got) != 1 || got[0] != "*" {
		t.Errorf("accounts.include = %q, want [*]", got)
	}
}
