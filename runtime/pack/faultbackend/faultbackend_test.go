package faultbackend_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/pack"
	"github.com/mailkeep/mailkeep/runtime/pack/backendtest"
	"github.com/mailkeep/mailkeep/runtime/pack/faultbackend"
)

// Without rules the wrapper is a backend like any other.
func TestContract(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) pack.Backend { return faultbackend.New(pack.NewMemory(), 1) })
}

func TestRules(t *testing.T) {
	ctx := context.Background()
	b := faultbackend.New(pack.NewMemory(), 1)
	save := func(name string) error { return b.Save(ctx, name, bytes.NewReader([]byte("x")), 1) }
	b.Fail(faultbackend.Rule{Op: faultbackend.Save, Name: "a*", After: 1, Times: 2})
	var got []bool
	for range 5 {
		got = append(got, save("abc") != nil)
	}
	if want := []bool{false, true, true, false, false}; !slices.Equal(got, want) {
		t.Fatalf("failures %v, want %v", got, want)
	}
	if err := save("bcd"); err != nil {
		t.Fatalf("a name the rule does not match failed: %v", err)
	}
	b.Fail(faultbackend.Rule{Op: faultbackend.ReadAt, Name: "abc"})
	_, err := b.ReadAt(ctx, "abc", make([]byte, 1), 0)
	if !errors.Is(err, syscall.EIO) || err.Error() != "read memory:abc: input/output error" {
		t.Fatalf("ReadAt: %v; want EIO naming the object", err)
	}
	if b.Injected() != 3 {
		t.Fatalf("Injected() = %d, want 3", b.Injected())
	}
	b.Heal()
	if _, err := b.ReadAt(ctx, "abc", make([]byte, 1), 0); err != nil {
		t.Fatalf("ReadAt after Heal: %v", err)
	}
	// Probabilistic rules replay from the seed.
	run := func() []bool {
		b := faultbackend.New(pack.NewMemory(), 42)
		b.Fail(faultbackend.Rule{Op: faultbackend.Stat, Prob: 0.5})
		var out []bool
		for range 32 {
			_, err := b.Stat(ctx, "x")
			out = append(out, errors.Is(err, syscall.EIO))
		}
		return out
	}
	first, second := run(), run()
	n := 0
	for _, f := range first {
		if f {
			n++
		}
	}
	if !slices.Equal(first, second) || n == 0 || n == 32 {
		t.Fatalf("seeded failures %v then %v", first, second)
	}
}
