package catalog

import (
	"os"

	"golang.org/x/sys/unix"
)

// prefetchShare is the largest share of the machine's memory Prefetch
// asks the kernel to read ahead.
const prefetchShare = 10

// Prefetch asks the kernel to read the catalog's database and WAL files
// into the page cache in the background, so that the random index and
// table pages a scan updates are not each read from disk while the scan
// waits. It does nothing for a catalog larger than a tenth of the
// machine's memory, whose pages would push the mail server's own out.
func (c *Catalog) Prefetch() {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return
	}
	limit := int64(si.Totalram) * int64(si.Unit) / prefetchShare
	for _, p := range []string{c.path, c.path + "-wal"} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if fi, err := f.Stat(); err == nil && fi.Size() <= limit {
			limit -= fi.Size()
			_ = unix.Fadvise(int(f.Fd()), 0, fi.Size(), unix.FADV_WILLNEED)
		}
		f.Close()
	}
}
