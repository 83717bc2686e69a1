// Package killtest holds what the SIGKILL tests share with `make
// campaign`: how many rounds to run and with which seed (fixed in `make
// test`, given by the campaign through the environment), and the line in
// which each test reports the kills that landed, which the campaign adds
// up.
package killtest

import (
	"os"
	"strconv"
	"testing"
)

// Environment variables the campaign sets.
const (
	RoundsEnv = "MAILKEEP_KILL_ROUNDS"
	SeedEnv   = "MAILKEEP_KILL_SEED"
)

// Rounds returns MAILKEEP_KILL_ROUNDS, or def when it is not set.
func Rounds(def int) int {
	if n, err := strconv.Atoi(os.Getenv(RoundsEnv)); err == nil && n > 0 {
		return n
	}
	return def
}

// Seed returns MAILKEEP_KILL_SEED, or def when it is not set: a test
// draws its kill points from it, so that every part of a campaign kills
// at other points and any part can be replayed.
func Seed(def uint64) uint64 {
	if n, err := strconv.ParseUint(os.Getenv(SeedEnv), 10, 64); err == nil {
		return n
	}
	return def
}

// Report logs how many of the rounds' kills landed where the test meant
// them to, in the form the campaign reads (go test -v shows it):
// "killtest: NAME kills=K rounds=R seed=S".
func Report(t testing.TB, name string, kills, rounds int, seed uint64) {
	t.Helper()
	t.Logf("killtest: %s kills=%d rounds=%d seed=%d", name, kills, rounds, seed)
}
