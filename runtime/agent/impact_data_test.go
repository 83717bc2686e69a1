package agent_test

import (
	"testing"

	"github.com/mailkeep/mailkeep/runtime/agent/impact"
	"github.com/mailkeep/mailkeep/runtime/repo"
)

// TestImpactKnowsTheRepositoryFile: the impact rules tell a new
// backup_path that holds a repository by the file that marks one.
func TestImpactKnowsTheRepositoryFile(t *testing.T) {
	if impact.RepoConfigFile != repo.ConfigFile {
		t.Errorf("impact.RepoConfigFile = %q, repo.ConfigFile = %q", impact.RepoConfigFile, repo.ConfigFile)
	}
}
