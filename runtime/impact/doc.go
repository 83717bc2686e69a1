// Package impact holds the policy-impact rules: what replacing a live
// config document by a candidate does to the backup (a repository that
// starts empty, accounts that stop being backed up, deleted messages and
// accounts that become purgeable earlier, accounts that leave legal
// hold), one rule per group of settings, each reporting an api.Impact.
//
// The agent evaluates a candidate with the numbers of its repository
// (Evaluate with a Data over its catalog and mail store, for POST
// /v1/config/evaluate); the planner, when an agent cannot evaluate,
// judges from the settings alone (Static). The rules read the config
// documents through the Document interface (*schema.Document is one) and
// the repository through Data: the package imports neither the schema
// nor the repository, so that, like every runtime package but the agent,
// it links no policy language, and the planner no SQLite.
package impact
