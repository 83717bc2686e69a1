package names

import "testing"

// TestDecode reads b64: arguments, padded or not, and refuses bad or
// empty ones.
func TestDecode(t *testing.T) {
	for in, want := range map[string]string{"Work": "Work", "b64:V29yaw==": "Work", "b64:V29yaw": "Work", "b64:/w==": "\xff"} {
		if got, err := Decode(in); err != nil || got != want {
			t.Errorf("Decode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"b64:!!", "b64:"} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode accepted %q", bad)
		}
	}
}

// TestRoundTrip: a name that is not UTF-8 survives B64, Arg and Decode,
// and a UTF-8 name needs none of them.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"Caf\xe9", "Entwürfe", "a\nb", "b64:V29yaw==", "tab\there"} {
		got, err := Decode(Arg(name))
		if err != nil || got != name {
			t.Errorf("Decode(Arg(%q)) = %q, %v", name, got, err)
		}
		display, b64 := Fields(name)
		if (b64 == "") != (display == name) {
			t.Errorf("Fields(%q) = %q, %q", name, display, b64)
		}
	}
	if B64("Entwürfe") != "" || Arg("INBOX") != "INBOX" || Arg("Entwürfe") != "Entwürfe" {
		t.Error("a UTF-8 name got a base64 form")
	}
	// A name that would print a control character, or read as a b64:
	// argument, is typed in base64.
	for name, want := range map[string]string{"a\nb": "b64:YQpi", "b64:x": "b64:YjY0Ong=", "Caf\xe9": "b64:Q2Fm6Q=="} {
		if got := Arg(name); got != want {
			t.Errorf("Arg(%q) = %q; want %q", name, got, want)
		}
	}
}

// TestDisplay shows a name as it is when it can be typed as it is, and
// otherwise with the b64: form that types it.
func TestDisplay(t *testing.T) {
	for name, want := range map[string]string{
		"Entwürfe": "Entwürfe",
		"Caf\xe9":  "Caf\uFFFD (b64:Q2Fm6Q==)",
		"a\nb":     "a\uFFFDb (b64:YQpi)",
		"b64:x":    "b64:x (b64:YjY0Ong=)",
	} {
		if got := Display(name); got != want {
			t.Errorf("Display(%q) = %q; want %q", name, got, want)
		}
		if got := Exact(Fields(name)); got != name {
			t.Errorf("Exact(Fields(%q)) = %q", name, got)
		}
	}
}
