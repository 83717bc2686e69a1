// Package impact holds the policy-impact rules: what replacing a live
// config document by a candidate does to the backup (a repository that
// starts empty, accounts that stop being backed up, deleted messages and
// accounts that become purgeable earlier, accounts that leave legal
// hold), one rule per group of settings, each reporting an api.Impact.
//
// The agent evaluates a candidate with the numbers of its repository
// (Evaluate with a Data over its catalog and mail store, for POST
// /v1/config/evaluate); the planner, when an agent cannot evaluate,
// judges from the settings alone (Static). The package imports the
// config schema and the API types, never the repository, so that the
// planner links no SQLite.
package impact
