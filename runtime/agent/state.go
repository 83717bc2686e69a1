package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/fsutil"
	"github.com/mailkeep/mailkeep/schema"
)

// stateFile is the agent's persistent state inside its state directory.
const stateFile = "agent-state.json"

// state is what the agent keeps across restarts.
type state struct {
	// Document is the canonical config document, nil while unconfigured.
	Document    json.RawMessage  `json:"document,omitempty"`
	ETag        string           `json:"etag,omitempty"`
	Revision    int64            `json:"revision"`
	UpdatedAt   time.Time        `json:"updated_at,omitzero"`
	LastApplied *api.Applied     `json:"last_applied,omitempty"`
	Repos       []api.RepoRecord `json:"repositories,omitempty"`
}

// loadState reads the state file; a missing file is an unconfigured agent.
func loadState(dir string) (*state, *schema.Document, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &state{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading agent state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil, fmt.Errorf("agent state %s is corrupt: %w", filepath.Join(dir, stateFile), err)
	}
	if len(st.Document) == 0 {
		return &st, nil, nil
	}
	doc, err := schema.DecodeDocument(st.Document)
	if err != nil {
		return nil, nil, fmt.Errorf("agent state %s: %w", filepath.Join(dir, stateFile), err)
	}
	// Older documents gain the defaults of settings added since; the ETag
	// follows the filled-in document.
	st.Document = doc.Canonical()
	st.ETag = doc.ETag()
	return &st, doc, nil
}

// save writes the state file atomically.
func (st *state) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, stateFile), append(b, '\n'), 0o600)
}
