package mailheader

import "testing"

func TestRecipient(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"Delivered-To: Alice@Example.org\nFrom: b@c\n\nbody", "alice@example.org"},
		{"X-Original-To: <bob@example.org>\nDelivered-To: carol@example.org\n\n", "carol@example.org"},
		{"Delivered-To: first@example.org\nDelivered-To: second@example.org\n\n", "first@example.org"},
		{"Envelope-To: dave@example.org\r\n\r\n", "dave@example.org"},
		{"To: eve@example.org\n\n", ""},
		{"Subject: x\n\nDelivered-To: in-body@example.org\n", ""},
		{"Delivered-To: two words@example.org\n\n", ""},
		{"Delivered-To: nodomain@\n\n", ""},
		{"Delivered-To: caf\xe9@example.org\n\n", ""},
		{"Delivered-To: <a@b>, c@d\n\n", ""},
	} {
		if got := Recipient([]byte(tc.msg)); got != tc.want {
			t.Errorf("Recipient(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
