#!/usr/bin/env bash
# make demo: mailkeep protecting a mail server end to end, in under a
# minute. With Dovecot installed (run as root), a throwaway Dovecot on
# loopback receives sample mail through LMTP and IMAP; without it, a Maildir
# store is generated. An agent backs it up under examples/quickstart
# (mailkeep apply), an account is deleted and restored, and the demo shows
# that it is back as it was. Everything lives under one temporary directory
# that is removed at the end, also on Ctrl-C (internal/demo/cmd/demo).
#
# Usage: internal/demo/run.sh [MAILKEEP_BINARY [DEMO_BINARY]]
set -euo pipefail
bin=${1:-bin/mailkeep}
demo=${2:-}
if [ -z "$demo" ]; then
	demo=$(mktemp "${TMPDIR:-/tmp}/mailkeep-demo-bin.XXXXXX")
	trap 'rm -f "$demo"' EXIT
	go build -o "$demo" ./internal/demo/cmd/demo
fi
"$demo" -mailkeep "$bin" -policy examples/quickstart
