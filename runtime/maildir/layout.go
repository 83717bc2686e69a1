package maildir

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Layouts of the folder directories, as in Dovecot's LAYOUT= option.
const (
	// LayoutMaildirPP is Maildir++: INBOX in the root, every other folder
	// a directory ".Level1.Level2" in the root.
	LayoutMaildirPP = "maildir++"
	// LayoutFS is LAYOUT=fs: INBOX in the root, every other folder a
	// directory tree "Level1/Level2" below it.
	LayoutFS = "fs"
)

// Inbox is the name of the folder in the Maildir root.
const Inbox = "INBOX"

// FolderName maps a folder directory (relative to the Maildir root, as on
// disk) to its UTF-8 name with '/' separators: "" is INBOX, ".A.B"
// (Maildir++) or "A/B" (fs) is "A/B", each level decoded from modified
// UTF-7. A level that is not valid modified UTF-7 is kept as it is.
func FolderName(layout, dir string) string {
	if dir == "" {
		return Inbox
	}
	var levels []string
	if layout == LayoutFS {
		levels = strings.Split(dir, "/")
	} else {
		levels = strings.Split(strings.TrimPrefix(dir, "."), ".")
	}
	for i, l := range levels {
		if d, err := DecodeUTF7(l); err == nil {
			levels[i] = d
		}
	}
	return strings.Join(levels, "/")
}

// FolderDir maps a UTF-8 folder name with '/' separators to its directory
// relative to the Maildir root: "" for INBOX (any case), ".A.B" (Maildir++)
// or "A/B" (fs), each level encoded in modified UTF-7. Empty levels, "."
// and "..", levels with control characters, and (for Maildir++) levels
// containing '.' are errors.
func FolderDir(layout, name string) (string, error) {
	if strings.EqualFold(name, Inbox) {
		return "", nil
	}
	if name == "" {
		return "", fmt.Errorf("empty folder name")
	}
	levels := strings.Split(name, "/")
	for i, l := range levels {
		if l == "" || l == "." || l == ".." {
			return "", fmt.Errorf("folder name %q has an empty, \".\" or \"..\" level", name)
		}
		if strings.ContainsAny(l, "\x00\r\n\t") {
			return "", fmt.Errorf("folder name %q contains a control character", name)
		}
		if layout != LayoutFS && strings.Contains(l, ".") {
			return "", fmt.Errorf("folder name %q contains '.', which Maildir++ uses as its separator", name)
		}
		if layout == LayoutFS && (strings.HasPrefix(l, ".") || l == "cur" || l == "new" || l == "tmp") {
			return "", fmt.Errorf("folder name %q has a level that LAYOUT=fs cannot store", name)
		}
		levels[i] = EncodeUTF7(l)
	}
	if layout == LayoutFS {
		return strings.Join(levels, "/"), nil
	}
	return "." + strings.Join(levels, "."), nil
}

// checkFolderDir validates a folder directory taken from a caller: it must
// stay inside the Maildir root and have the layout's shape.
func checkFolderDir(layout, dir string) error {
	if dir == "" {
		return nil
	}
	if strings.ContainsRune(dir, 0) || filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fmt.Errorf("folder directory %q is not a clean relative path", dir)
	}
	levels := strings.Split(dir, "/")
	for _, l := range levels {
		if l == "" || l == "." || l == ".." {
			return fmt.Errorf("folder directory %q leaves the Maildir", dir)
		}
	}
	if layout == LayoutFS {
		for _, l := range levels {
			if strings.HasPrefix(l, ".") || l == "cur" || l == "new" || l == "tmp" {
				return fmt.Errorf("folder directory %q is not a LAYOUT=fs folder", dir)
			}
		}
		return nil
	}
	if len(levels) != 1 || !strings.HasPrefix(dir, ".") || len(dir) < 2 {
		return fmt.Errorf("folder directory %q is not a Maildir++ folder (\".Name\")", dir)
	}
	return nil
}
