#!/usr/bin/env bash
# peers.sh: build and cache the backup tools mailkeep is benchmarked against
# (issue 3, "Tests and benchmarks"; PRODUCT.md §5):
#
#   restic 0.18.1   Go module, built in a scratch module (go get + go build)
#   kopia  0.21.1   Go module, built the same way (`go install ...@v0.21.1` is
#                   refused for kopia: the module proxy used here answers
#                   403 to the version-list request `go install` makes)
#   borg            Debian package borgbackup, installed with apt-get if missing
#
# Binaries go to ${MAILKEEP_CACHE:-$HOME/.cache/mailkeep}/peers/ and are never
# committed. The script is idempotent: a cached binary that reports the wanted
# version is kept; set PEERS_REBUILD=1 to rebuild anyway.
#
# Usage:
#   internal/bench/peers.sh              build/install what is missing, print versions
#   internal/bench/peers.sh -smoke       also init a repository with each peer, back
#                                        up a small generated corpus, restore it and
#                                        compare the trees
#   internal/bench/peers.sh -print-dir   print the directory holding the binaries
#
# Benchmarks use "$(internal/bench/peers.sh -print-dir)/restic" etc.; borg is
# taken from PATH (Debian installs /usr/bin/borg).
set -euo pipefail

RESTIC_VERSION=0.18.1
KOPIA_VERSION=0.21.1

cache=${MAILKEEP_CACHE:-$HOME/.cache/mailkeep}
dir=$cache/peers
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)

smoke=0
for arg in "$@"; do
	case $arg in
	-smoke | --smoke) smoke=1 ;;
	-print-dir | --print-dir)
		echo "$dir"
		exit 0
		;;
	-h | -help | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "peers.sh: unknown argument $arg (try -help)" >&2
		exit 1
		;;
	esac
done

log() { printf 'peers: %s\n' "$*" >&2; }
die() {
	printf 'peers: %s\n' "$*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 || die "go is not on PATH (Go 1.26 lives at /usr/local/go/bin)"
mkdir -p "$dir"

# Builds never switch toolchains behind our back and never touch the mailkeep
# module: they run in a scratch module of their own.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false
export CGO_ENABLED=0

# scratch_build NAME VERSION PACKAGE [LDFLAGS]
scratch_build() {
	local name=$1 version=$2 pkg=$3 ldflags=${4:-}
	local scratch start end
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/mailkeep-peer-$name.XXXXXX")
	start=$(date +%s)
	log "building $name $version in scratch module $scratch"
	(
		cd "$scratch"
		go mod init scratch >/dev/null 2>&1
		# Get the package, not only the module: `go get MODULE@V` records go.sum
		# lines for the module's root package only, and restic has none there.
		go get "$pkg@v$version"
		go build -trimpath -ldflags "-s -w $ldflags" -o "$dir/$name.tmp" "$pkg"
	) || die "building $name $version failed (scratch module kept at $scratch)"
	mv -f "$dir/$name.tmp" "$dir/$name"
	rm -rf "$scratch"
	end=$(date +%s)
	log "built $name $version in $((end - start)) s -> $dir/$name"
}

# restic: cmd/restic carries its version as a constant, nothing to inject.
if [ "${PEERS_REBUILD:-0}" != 1 ] && [ -x "$dir/restic" ] &&
	"$dir/restic" version 2>/dev/null | grep -q "restic $RESTIC_VERSION "; then
	log "restic $RESTIC_VERSION cached"
else
	scratch_build restic "$RESTIC_VERSION" github.com/restic/restic/cmd/restic
fi

# kopia: the version is injected by its release Makefile through -X; without
# it `kopia --version` says v0-unofficial, so set it the same way.
if [ "${PEERS_REBUILD:-0}" != 1 ] && [ -x "$dir/kopia" ] &&
	"$dir/kopia" --version 2>/dev/null | grep -q "^$KOPIA_VERSION "; then
	log "kopia $KOPIA_VERSION cached"
else
	scratch_build kopia "$KOPIA_VERSION" github.com/kopia/kopia \
		"-X github.com/kopia/kopia/repo.BuildVersion=$KOPIA_VERSION -X github.com/kopia/kopia/repo.BuildInfo=scratch-module-build -X github.com/kopia/kopia/repo.BuildGitHubRepo=kopia/kopia"
fi

# borg: from Debian.
if command -v borg >/dev/null 2>&1; then
	log "borg cached ($(command -v borg))"
else
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "borg is missing and installing it needs root: apt-get install borgbackup"
		sudo=sudo
	fi
	log "installing borgbackup from Debian"
	export DEBIAN_FRONTEND=noninteractive
	if ! $sudo apt-get install -y --no-install-recommends borgbackup; then
		$sudo apt-get update
		$sudo apt-get install -y --no-install-recommends borgbackup
	fi
fi

echo "peers in $dir:"
echo "  $("$dir/restic" version)"
echo "  kopia $("$dir/kopia" --version)"
echo "  $(borg --version) ($(command -v borg))"

[ "$smoke" = 1 ] || exit 0

# Smoke test: each peer backs up a small generated corpus and restores it; the
# restored tree must equal the source (content and mtimes).
work=$(mktemp -d "${TMPDIR:-/tmp}/mailkeep-peers-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/vmail
log "generating a small corpus in $src"
(cd "$repo_root" && go run ./internal/corpus/cmd/mkcorpus -root "$src" -seed 1 -accounts 4 -messages 400 -max-size 262144)

same_tree() { # same_tree A B: content and mtimes equal
	diff -r "$1" "$2" >/dev/null || return 1
	[ "$(cd "$1" && find . -type f -printf '%P %s %T@\n' | sort)" = \
		"$(cd "$2" && find . -type f -printf '%P %s %T@\n' | sort)" ]
}
check() {
	if same_tree "$src" "$2"; then echo "  $1: backup + restore OK"; else die "$1: restored tree differs from $src"; fi
}

export RESTIC_PASSWORD=smoke KOPIA_PASSWORD=smoke
export KOPIA_CONFIG_PATH=$work/kopia.config KOPIA_CACHE_DIRECTORY=$work/kopia-cache KOPIA_LOG_DIR=$work/kopia-logs
export KOPIA_CHECK_FOR_UPDATES=false
export BORG_BASE_DIR=$work/borg-base BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes

echo "smoke test on $src ($(find "$src" -type f | wc -l) files):"
"$dir/restic" -q -r "$work/restic-repo" init
"$dir/restic" -q -r "$work/restic-repo" backup "$src"
"$dir/restic" -q -r "$work/restic-repo" restore latest --target "$work/restic-out" >/dev/null
check restic "$work/restic-out$src"

"$dir/kopia" repository create filesystem --path "$work/kopia-repo" >/dev/null 2>&1 ||
	die "kopia repository create failed"
"$dir/kopia" snapshot create "$src" >/dev/null 2>&1 || die "kopia snapshot create failed"
"$dir/kopia" snapshot restore "$src" "$work/kopia-out" >/dev/null 2>&1 || die "kopia snapshot restore failed"
check kopia "$work/kopia-out"

borg init -e none "$work/borg-repo"
(cd "$src" && borg create "$work/borg-repo::smoke" .)
mkdir "$work/borg-out"
(cd "$work/borg-out" && borg extract "$work/borg-repo::smoke")
check borg "$work/borg-out"
