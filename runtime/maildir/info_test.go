package maildir

import "testing"

func TestParseInfo(t *testing.T) {
	cases := []struct {
		name string
		want Info
	}{
		{"1795641356.M373488P19840.vm,S=89,W=95", Info{Base: "1795641356.M373488P19840.vm,S=89,W=95"}},
		{"1795641356.M373488P19840.vm,S=89,W=95:2,Sa", Info{Base: "1795641356.M373488P19840.vm,S=89,W=95", Flags: "S", Letters: "a", HasInfo: true}},
		{"x:2,", Info{Base: "x", HasInfo: true}},
		{"x:2,TSRPFD", Info{Base: "x", Flags: "DFPRST", HasInfo: true}},
		{"x:2,FSazcb", Info{Base: "x", Flags: "FS", Letters: "abcz", HasInfo: true}},
		{"x:2,SaaS", Info{Base: "x", Flags: "S", Letters: "a", HasInfo: true}},
		{"x:2,SXa", Info{Base: "x", Flags: "S", Letters: "a", HasInfo: true}}, // unknown flag X dropped
		{"x:1,FS", Info{Base: "x", HasInfo: true}},                            // old experimental info: no flags
		{"host:with:colons:2,S", Info{Base: "host:with:colons", Flags: "S", HasInfo: true}},
		{"host:with:colons", Info{Base: "host:with:colons"}},
		{"x:3,S", Info{Base: "x:3,S"}},
	}
	for _, c := range cases {
		if got := ParseInfo(c.name); got != c.want {
			t.Errorf("ParseInfo(%q) = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestFormatName(t *testing.T) {
	cases := []struct{ base, flags, letters, want string }{
		{"b", "", "", "b:2,"},
		{"b", "SF", "ca", "b:2,FSac"},
		{"b", "T", "", "b:2,T"},
		{"b", "", "z", "b:2,z"},
	}
	for _, c := range cases {
		if got := FormatName(c.base, c.flags, c.letters); got != c.want {
			t.Errorf("FormatName(%q, %q, %q) = %q, want %q", c.base, c.flags, c.letters, got, c.want)
		}
		if c.flags != "" || c.letters != "" {
			in := ParseInfo(c.want)
			if FormatName(in.Base, in.Flags, in.Letters) != c.want {
				t.Errorf("FormatName does not round-trip %q", c.want)
			}
		}
	}
}
