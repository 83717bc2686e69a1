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
	for _, name := range []string{"Caf\xe9", "Entwürfe", "a\nb"} {
		got, err := Decode(Arg(name))
		if err != nil || got != name {
			t.Errorf("Decode(Arg(%q)) = %q, %v", name, got, err)
		}
		display, b64 := Fields(name)
		if (b64 == "") != (display == name) {
			t.Errorf("Fields(%q) = %q, %q", name, display, b64)
		}
	}
	if B64("Entwürfe") != "" || Arg("INBOX") != "INBOX" {
		t.Error("a UTF-8 name got a base64 form")
	}
}
