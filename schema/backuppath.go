package schema

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/mailkeep/mailkeep/runtime/maildir/location"
)

// kernelFilesystems are the trees no repository may live in: the kernel
// makes up their contents.
var kernelFilesystems = []string{"/proc", "/sys", "/dev"}

// checkBackupPath validates backup_path: an absolute, clean path of
// printable characters, not the root directory and not in a kernel
// filesystem.
func checkBackupPath(v cty.Value) *hcl.Diagnostic {
	p := v.AsString()
	if d := checkAbsPath(v); d != nil {
		return d
	}
	bad := func(format string, args ...any) *hcl.Diagnostic {
		return invalid("Invalid backup_path", "backup_path %q "+format, append([]any{p}, args...)...)
	}
	if err := location.CheckChars(p); err != nil {
		return bad("%s; the repository's path must be one a shell and a log can show.", err)
	}
	if location.HasDotDot(p) {
		return bad("has a \"..\" component; write the directory it means.")
	}
	clean := path.Clean(p)
	if clean == "/" {
		return bad("is the root directory; give the repository a directory of its own, such as %q.", DefaultBackupPath)
	}
	for _, k := range kernelFilesystems {
		if clean == k || strings.HasPrefix(clean, k+"/") {
			return bad("is in %s, whose contents the kernel makes up; give the repository a directory on a disk, such as %q.", k, DefaultBackupPath)
		}
	}
	return nil
}

// checkBackupPathStore reports a backup_path inside the mail store's
// Maildir tree (where it would be taken for an account, or its domain
// directory, and backed up into itself), or one that holds the mail store.
// Both values must be valid.
func checkBackupPathStore(backupPath, mailStore string) error {
	ms, err := location.Parse(mailStore)
	if err != nil {
		return nil // reported on mail_store
	}
	b := components(path.Clean(backupPath))
	t := components(ms.Path)
	first := len(t) // the first component with a variable
	for i, c := range t {
		if strings.Contains(c, "%") {
			first = i
			break
		}
	}
	n := min(len(b), len(t))
	for i := 0; i < n; i++ {
		if ok, _ := path.Match(componentGlob(t[i]), b[i]); !ok {
			return nil // apart from the store
		}
	}
	switch {
	case len(b) <= first:
		return fmt.Errorf("backup_path %q holds the mail store %q; the repository must not contain the mail it backs up", backupPath, ms.Path)
	case len(b) >= len(t):
		return fmt.Errorf("backup_path %q is inside an account's Maildir of the mail store %q; the repository must be outside the mail store", backupPath, ms.Path)
	}
	return fmt.Errorf("backup_path %q is inside the mail store %q, where it would be taken for an account's directory; the repository must be outside the mail store", backupPath, ms.Path)
}

// components splits an absolute path into its names.
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// componentGlob turns one component of a mail_store path template into a
// glob: each variable matches any name, the rest itself.
func componentGlob(c string) string {
	var b strings.Builder
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case ch == '%' && i+1 < len(c):
			v, n := location.Variable(c[i+1:])
			if v == "%" {
				b.WriteByte('%')
			} else {
				b.WriteByte('*')
			}
			i += n
		case strings.IndexByte(`*?[]\`, ch) >= 0:
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
