package selection

import (
	"strings"
	"testing"
)

func TestSelected(t *testing.T) {
	for _, c := range []struct {
		name             string
		include, exclude []string
		want             bool
	}{
		{"a@x.org", nil, nil, true},
		{"a@x.org", []string{"*@x.org"}, nil, true},
		{"a@y.org", []string{"*@x.org"}, nil, false},
		{"a@x.org", []string{"*@x.org"}, []string{"a@*"}, false},
		{"b@x.org", []string{"*@x.org"}, []string{"a@*"}, true},
		{"a@x.org", nil, []string{"a@x.org"}, false},
		{"a@x.org", []string{"["}, nil, false}, // malformed: matches nothing
		{"a@x.org", nil, []string{"["}, true},
	} {
		if got := Selected(c.name, c.include, c.exclude); got != c.want {
			t.Errorf("Selected(%q, %q, %q) = %v, want %v", c.name, c.include, c.exclude, got, c.want)
		}
	}
}

func TestHeld(t *testing.T) {
	if !Held("ceo@x.org", []string{"cfo@*", "ceo@*"}) || Held("a@x.org", []string{"ceo@*"}) || Held("a@x.org", nil) {
		t.Error("Held does not match its patterns")
	}
}

func TestCheck(t *testing.T) {
	if err := Check("legal hold", []string{"*@x.org", "a?@y"}); err != nil {
		t.Errorf("valid patterns: %v", err)
	}
	err := Check("accounts.exclude", []string{"*@x.org", "[a"})
	if err == nil || !strings.Contains(err.Error(), `accounts.exclude pattern "[a"`) {
		t.Errorf("malformed pattern: %v", err)
	}
}
