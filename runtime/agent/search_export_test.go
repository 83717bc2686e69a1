package agent

import "github.com/mailkeep/mailkeep/runtime/repo"

// RepoForTest returns the open repository, for tests that hold its writer
// lock.
func (a *Agent) RepoForTest() *repo.Repo {
	e, err := a.current()
	if err != nil {
		return nil
	}
	return e.repo
}
