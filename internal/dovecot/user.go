package dovecot

import (
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MailUser is the unprivileged system user that owns the test servers'
// mail, as vmail does on a real server.
const MailUser = "mailkeep-vmail"

var mailUserOnce struct {
	sync.Mutex
	uid, gid uint32
	done     bool
}

// mailUser returns MailUser's uid and gid, creating the user (a system
// user with its own group, no home, no shell) when it is missing.
func mailUser() (uid, gid uint32, err error) {
	mailUserOnce.Lock()
	defer mailUserOnce.Unlock()
	if mailUserOnce.done {
		return mailUserOnce.uid, mailUserOnce.gid, nil
	}
	u, err := user.Lookup(MailUser)
	for attempt := 0; err != nil && attempt < 10; attempt++ {
		// Test binaries of several packages may race here: useradd
		// fails when another one holds /etc/passwd's lock or just
		// created the user; look again after each try.
		out, aerr := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
			"--comment", "mailkeep test mail user", MailUser).CombinedOutput()
		if u, err = user.Lookup(MailUser); err == nil {
			break
		}
		if aerr != nil && attempt == 9 {
			return 0, 0, fmt.Errorf("creating the system user %s with useradd: %v: %s", MailUser, aerr, strings.TrimSpace(string(out)))
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("looking up the system user %s: %w", MailUser, err)
	}
	uid64, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid64, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("system user %s has uid %q gid %q", MailUser, u.Uid, u.Gid)
	}
	mailUserOnce.uid, mailUserOnce.gid, mailUserOnce.done = uint32(uid64), uint32(gid64), true
	return mailUserOnce.uid, mailUserOnce.gid, nil
}
