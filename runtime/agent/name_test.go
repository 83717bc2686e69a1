package agent

import "testing"

// TestDecodeName reads b64: arguments, padded or not, and refuses bad or
// empty ones.
func TestDecodeName(t *testing.T) {
	for in, want := range map[string]string{"Work": "Work", "b64:V29yaw==": "Work", "b64:V29yaw": "Work", "b64:/w==": "\xff"} {
		if got, err := DecodeName(in); err != nil || got != want {
			t.Errorf("DecodeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"b64:!!", "b64:"} {
		if _, err := DecodeName(bad); err == nil {
			t.Errorf("DecodeName accepted %q", bad)
		}
	}
}
