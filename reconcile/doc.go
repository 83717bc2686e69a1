// Package reconcile will hold mailkeep's plan/apply engine: fetching each
// server's live config from its agent, diffing it against the effective
// config built by package schema, the plan model and its renderers (human,
// Markdown, versioned JSON), saved plan files, and apply.
//
// It is empty in this version: the agent it talks to arrives first (see
// the project's issues).
package reconcile
