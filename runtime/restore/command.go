package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// CommandResult is the outcome of restore.post_command.
type CommandResult struct {
	Command  []string `json:"command"`
	ExitCode int      `json:"exit_code"`
	// Output is the command's combined output, cut to its last 4 KiB.
	Output string `json:"output"`
	// Error says why the command could not run or was stopped.
	Error string `json:"error,omitempty"`
}

// Outcome renders the result in a few words.
func (c *CommandResult) Outcome() string {
	switch {
	case c.Error != "":
		return "failed: " + c.Error
	case c.ExitCode != 0:
		return fmt.Sprintf("exited with status %d: %s", c.ExitCode, strings.TrimSpace(c.Output))
	}
	return "ok"
}

// postCommandTimeout bounds restore.post_command.
const postCommandTimeout = 10 * time.Minute

// maxOutput is how much of the command's output is kept.
const maxOutput = 4096

// runPostCommand runs the command with %u replaced by the account.
func runPostCommand(ctx context.Context, argv []string, account string) *CommandResult {
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, "%u", account)
	}
	res := &CommandResult{Command: args}
	ctx, cancel := context.WithTimeout(ctx, postCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res.Output = tail(out.String(), maxOutput)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.ExitCode = ee.ExitCode()
	case err != nil:
		res.Error = err.Error()
		res.ExitCode = -1
	}
	return res
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
