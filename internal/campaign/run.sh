#!/usr/bin/env bash
# make campaign: the SIGKILL campaign of issue 11. It runs the kill tests
# (each SIGKILLs the agent, or the purge, at points drawn from a seed, then
# checks verify -deep and compares restores with the live store) part
# after part, one seed per part, until CAMPAIGN_KILLS kills have landed.
#
# It resumes: every finished part is a line of $CAMPAIGN_DIR/state
# ("TEST SEED KILLS ROUNDS OUTCOME"), and a part already there is not run
# again, so the campaign can be stopped at any time and run in several
# sessions. A failed part stops the campaign; its log stays in
# $CAMPAIGN_DIR/logs, and the same seed replays it:
#   MAILKEEP_KILL_SEED=SEED MAILKEEP_KILL_ROUNDS=ROUNDS go test -v -run TEST PKG
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
dir=${CAMPAIGN_DIR:-.campaign}
target=${CAMPAIGN_KILLS:-1000}
mkdir -p "$dir/logs"
state="$dir/state"
touch "$state"

# name package test-pattern rounds-per-part
tests=(
	"smartscan ./cmd/mailkeep ^TestAgentKilledDuringSmartScan$ 25"
	"purge ./runtime/purge ^TestCrashSafety$ 40"
	"restore ./internal/e2e ^TestRestoreKilledAndRunAgain$ 8"
	"e2e-smartscan ./internal/e2e ^TestKillDuringSmartScanWhileDelivering$/^realtime_off$ 6"
	"e2e-realtime ./internal/e2e ^TestKillDuringSmartScanWhileDelivering$/^realtime_on$ 6"
)

total() { awk '$5 == "ok" { k += $3 } END { print k + 0 }' "$state"; }

summary() {
	echo "campaign: $(total) kills landed (target $target); by test:"
	awk '$5 == "ok" { k[$1] += $3; r[$1] += $4; p[$1]++ } END { for (t in k) printf "  %-14s %5d kills in %4d rounds, %3d parts\n", t, k[t], r[t], p[t] }' "$state" | sort
}

part=1
while [ "$(total)" -lt "$target" ]; do
	for t in "${tests[@]}"; do
		read -r name pkg run rounds <<<"$t"
		if awk -v n="$name" -v s="$part" '$1 == n && $2 == s && $5 == "ok" { f = 1 } END { exit !f }' "$state"; then
			continue
		fi
		log="$dir/logs/$name-$part.log"
		echo "campaign: part $part, $name ($rounds rounds, seed $part)"
		if MAILKEEP_KILL_SEED=$part MAILKEEP_KILL_ROUNDS=$rounds $GO test -count=1 -v -timeout 3h -run "$run" "$pkg" >"$log" 2>&1; then
			kills=$(grep -o "killtest: $name kills=[0-9]*" "$log" | tail -1 | sed 's/.*kills=//')
			if [ -z "$kills" ]; then
				echo "campaign: $name passed but reported no kills; see $log" >&2
				exit 1
			fi
			echo "$name $part $kills $rounds ok" >>"$state"
		else
			echo "$name $part 0 $rounds failed" >>"$state"
			echo "campaign: $name failed with seed $part; see $log" >&2
			summary
			exit 1
		fi
		[ "$(total)" -ge "$target" ] && break
	done
	part=$((part + 1))
done
summary
