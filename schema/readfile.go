package schema

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// The bounds on policy input, stated in docs/POLICY.md ("Limits"). They are
// wide enough for a policy of 60,000 servers in 10 MB.
const (
	// MaxFileBytes bounds one policy or variable file, and standard input
	// for fmt.
	MaxFileBytes = 32 << 20
	// MaxPolicyBytes bounds the policy and variable files of one policy
	// together.
	MaxPolicyBytes = 64 << 20
	// MaxPolicyFiles bounds how many policy and variable files one policy
	// reads.
	MaxPolicyFiles = 100_000
)

// maxPolicyFiles and maxPolicyBytes are the bounds Load applies; tests
// lower them.
var (
	maxPolicyFiles       = MaxPolicyFiles
	maxPolicyBytes int64 = MaxPolicyBytes
)

// ReadFile reads an input file of at most limit bytes: a policy, variable
// or plan file. Only regular files are read (a symbolic link is followed
// to one); a FIFO, a device or a directory is refused without blocking, and
// so is a file larger than limit. Errors name the file.
func ReadFile(name string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", name, fileKind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, tooLarge(name, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(name, limit) // it grew while being read
	}
	return b, nil
}

// ReadAllLimited reads r, an input stream such as standard input, up to
// limit bytes; name names it in the error when it holds more.
func ReadAllLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(name, limit)
	}
	return b, nil
}

func tooLarge(name string, limit int64) error {
	return fmt.Errorf("%s is larger than %s, the most mailkeep reads from one file", name, byteCount(limit))
}

// byteCount renders a limit in MiB or bytes.
func byteCount(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
