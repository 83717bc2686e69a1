// Package apitest holds the conformance cases of the agent's config API
// (Run) and a fake agent (Fake) that passes them, for tests only.
//
// The cases run against the real agent (its http.Handler behind the
// client, in runtime/agent's tests) and against Fake (this package's
// tests), so that the fake the planner's tests use cannot drift from the
// agent: ETag and If-Match, revisions, last_applied and drift, 404 while
// unconfigured, refusals of stale writes and bad documents, evaluations,
// and the refusals of operations (unknown kinds, an unconfigured agent,
// unknown operations). The fake runs no operation itself: the planner
// starts none.
package apitest
