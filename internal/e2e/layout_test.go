package e2e

import (
	"testing"

	"github.com/mailkeep/mailkeep/internal/dovecot"
)

// TestRealtimeWithControlAndIndexDirs: the realtime scanner follows a
// history on a store with folders as plain directories (:LAYOUT=fs) and
// dovecot-uidlist, dovecot-keywords and subscriptions apart from the mail
// (:CONTROL=, and :INDEX= for the indexes); a restore into a fresh account
// gives what IMAP showed.
func TestRealtimeWithControlAndIndexDirs(t *testing.T) {
	t.Parallel()
	e := newEnvDovecot(t, dovecot.Options{Users: []dovecot.User{alice, bob, targetUser(1)}, Layout: "fs", Control: true, Index: true}, true)
	w := newWorkload(t, e, 7, alice.Name, bob.Name)
	w.run(historyOps / 2)
	w.logout()
	e.waitRealtime(w.lastWrite)
	want := e.snapshot(alice.Name)
	e.restoreAPI(alice.Name, "", targetUser(1).Name)
	compare(t, "restore -to with LAYOUT=fs, CONTROL= and INDEX=", want, e.snapshot(targetUser(1).Name))
}
