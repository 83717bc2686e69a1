package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/user"
	"strings"
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/client"
	"github.com/mailkeep/mailkeep/runtime/restore"
)

// A config whose restore.post_command_user is not a user on the agent's
// machine is refused (on PUT and on evaluate) naming the setting; with an
// existing user, the restore's post_command runs as that user.
func TestPostCommandUser(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	ta := startAgent(t)
	ctx := context.Background()
	unknown := ta.document(t, "backup", map[string]any{"restore": map[string]any{"post_command": []string{"true"}, "post_command_user": "no-such-user-mk"}})
	var ae *client.APIError
	if _, err := ta.c.PutConfig(ctx, unknown, "", "t"); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest ||
		!strings.Contains(ae.Message, `restore.post_command_user "no-such-user-mk"`) {
		t.Errorf("a config naming an unknown user: %v, want 400 naming the setting", err)
	}
	doc := ta.document(t, "backup", map[string]any{"restore": map[string]any{"post_command": []string{"id", "-u"}, "post_command_user": "nobody"}})
	if _, err := ta.c.PutConfig(ctx, doc, "", "t"); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta.c, "idle")
	if _, err := ta.c.Evaluate(ctx, unknown); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("evaluating a config naming an unknown user: %v, want 400", err)
	}
	op, err := ta.c.Start(ctx, api.OperationRequest{Type: "smartscan"})
	if err != nil {
		t.Fatal(err)
	}
	waitOp(t, ta.c, op.ID)
	list, err := ta.c.Accounts(ctx, "")
	if err != nil || len(list) == 0 {
		t.Fatalf("accounts: %v %v", list, err)
	}
	op, err = ta.c.Start(ctx, api.OperationRequest{Type: "restore", RestoreRequest: api.RestoreRequest{Account: list[0].Name, To: "copy@example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	done := waitOp(t, ta.c, op.ID)
	b, _ := json.Marshal(done.Result)
	var res restore.Result
	json.Unmarshal(b, &res)
	if done.State != api.StateSucceeded || res.PostCommand == nil || strings.TrimSpace(res.PostCommand.Output) != nobody.Uid {
		t.Errorf("restore with post_command_user nobody: %+v, post_command %+v; want it run as uid %s", done, res.PostCommand, nobody.Uid)
	}
}
