#!/usr/bin/env bash
# make demo: validate examples/quickstart and show the effective
# configuration the agent would receive, with the mail store and backup
# repository pointed at a throwaway directory.
set -euo pipefail
bin=${1:-bin/mailkeep}
work=$(mktemp -d "${TMPDIR:-/tmp}/mailkeep-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

vars=(-var "mail_store=maildir:$work/vmail/%d/%n/Maildir"
      -var "backup_path=$work/backup"
      -var "agent_address=unix://$work/agent.sock")

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step mailkeep validate examples/quickstart "${vars[@]}"
"$bin" validate examples/quickstart "${vars[@]}"

step mailkeep config show examples/quickstart "${vars[@]}"
"$bin" config show examples/quickstart "${vars[@]}"

step mailkeep fmt -check examples/quickstart
"$bin" fmt -check examples/quickstart && echo "(formatted)"

step mailkeep validate examples/fleet
"$bin" validate examples/fleet
