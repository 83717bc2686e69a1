// Package secret holds the rules mailkeep applies to what guards access to
// it, so that every listener (the agent's API, and the metrics and console
// listeners to come) and every reader of a secret file (tokens, keys,
// passwords; the agent's -token-file and -tls-key, the client's
// token_file and token_env) applies the same ones:
//
//   - a listener on plain TCP, without TLS, is refused unless its address
//     is a loopback address (CheckListen);
//   - a token shorter than MinTokenLen bytes is refused (CheckToken);
//   - a secret file that its group or others may access is refused, with
//     a message saying how to fix its mode, as OpenSSH does for private
//     keys; so is one that is not a regular file (ReadFile).
//
// docs/API.md states the rules for administrators.
package secret
