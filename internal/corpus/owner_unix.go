//go:build unix

package corpus

import (
	"os"
	"syscall"
)

// dirOwner returns the owner to give files created in a directory: the
// directory's own owner when running as root (as a delivery agent running as
// root would), nil otherwise (the files then belong to the caller).
func dirOwner(st os.FileInfo) *Owner {
	if os.Geteuid() != 0 {
		return nil
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return &Owner{UID: int(s.Uid), GID: int(s.Gid)}
	}
	return nil
}
