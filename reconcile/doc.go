// Package reconcile is mailkeep's plan/apply engine.
//
// A Planner asks each server's agent for its live config (in parallel,
// with a timeout per server), compares it setting by setting with the
// document the policy gives the server (schema.NewDocument; the live one
// is read through schema.DecodeDocument, so defaults are filled in and a
// setting added in a newer mailkeep never shows as a change), and builds a
// Plan: per server an Action (create, update, no-op, unreachable) and per
// setting a Change with before and after. For updates it asks the agent
// to evaluate the candidate against its catalog (POST /v1/config/evaluate)
// and marks destructive changes with their reason and numbers; it shows
// Drift, what changed on the agent since mailkeep last applied it.
//
// The plan model is separate from its renderers: RenderHuman,
// RenderMarkdown (for pull-request comments, first line MarkdownMarker)
// and RenderJSON (versioned wire form, JSONFormatVersion). WritePlanFile
// and ReadPlanFile save and load plans (docs/PLAN.md). An Applier applies
// a plan with If-Match on the ETag read at plan time, refusing servers
// whose live config moved, destructive changes without permission and
// destructive changes to protected servers, and returns a Report.
//
// Values derived from sensitive variables are redacted (Redacted) in the
// model itself, so no renderer can show them; plan files hold no token and
// no sensitive value.
package reconcile
