// Package schema is mailkeep's policy language.
//
// A policy is a directory of *.hcl files (or a single file) holding one
// global block, any number of server blocks, variable blocks and locals
// blocks. Load parses and decodes the files, evaluates variables and locals,
// expands server blocks that use for_each, validates every setting and
// merges the global block into each server. The result is one effective
// configuration per server in which every value records where it came from:
// the built-in default, the global block or the server block, and the
// variables it was computed from.
//
// From an effective configuration, Document builds the agent's config
// document: one server's settings as values only, defaults filled in, with a
// format version, serialised as canonical JSON whose SHA-256 is its ETag.
//
// Problems are reported as hcl.Diagnostics with precise source ranges;
// WriteDiagnostics renders them with a source snippet and
// DiagnosticsJSON renders them for machines.
package schema
