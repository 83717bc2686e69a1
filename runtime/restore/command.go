package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
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

// runPostCommand runs the command with %u replaced by the account, as the
// user runAs names (see CommandUser).
func runPostCommand(ctx context.Context, argv []string, runAs, account string) *CommandResult {
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, "%u", account)
	}
	res := &CommandResult{Command: args}
	as, err := CommandUser(runAs)
	if err != nil {
		res.Error, res.ExitCode = err.Error(), -1
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, postCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if as != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: as.Credential}
		cmd.Env = append(os.Environ(), "HOME="+as.Home, "USER="+as.Name, "LOGNAME="+as.Name)
		cmd.Dir = "/" // the agent's directory may be closed to the user
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
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

// RunAs is the identity restore.post_command runs with.
type RunAs struct {
	Name       string
	Home       string
	Credential *syscall.Credential
}

// CommandUser resolves restore.post_command_user on this machine: a user
// name or a numeric uid, run with the user's primary group and
// supplementary groups. "" and "root" are nil: the command runs as the
// agent does (root). An unknown user is an error naming the setting.
func CommandUser(name string) (*RunAs, error) {
	if name == "" || name == "root" {
		return nil, nil
	}
	lookup := user.Lookup
	if _, err := strconv.ParseUint(name, 10, 32); err == nil {
		lookup = user.LookupId
	}
	u, err := lookup(name)
	if err != nil {
		return nil, fmt.Errorf("restore.post_command_user %q: no such user on this server (%v)", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	gids, err3 := u.GroupIds()
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("restore.post_command_user %q: %v", name, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("restore.post_command_user %q: group id %q: %v", name, g, err)
		}
		cred.Groups = append(cred.Groups, uint32(n))
	}
	return &RunAs{Name: u.Username, Home: u.HomeDir, Credential: cred}, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
