#!/usr/bin/env bash
# Proves that a module outside the repository builds against miniauth's
# modules as a module proxy would serve them once tagged: what a user's
# `go get github.com/wxmp/miniauth/adapters/ginauth@vX.Y.Z` meets, which the
# replace directives of the nested go.mods hide inside the repository.
#
# 1. .ci/modproxy (a module of its own: the root go.mod gains nothing) writes
#    a file-system GOPROXY from the working tree: the core and every nested
#    module (.ci/nested.sh) at the version the nested modules require of the
#    core. It refuses a version no tag can give (v0.0.0, a pseudo-version) and
#    requirements that disagree.
# 2. In a temporary directory outside the repository, a consumer module
#    imports every package of those modules and requires the nested modules
#    at that version, as `go get .../adapters/ginauth@vX.Y.Z` leaves it: the
#    core comes at the version they require. A build. Then it requires the
#    core at that version too (`go get github.com/wxmp/miniauth@vX.Y.Z`), and
#    builds again. (Not `go get` itself: it reads go.mod files of the whole
#    graph, more than the module cache holds offline; a build reads what it
#    needs, as a user's build does.)
#
# All offline: GOPROXY is the local proxy, then the module cache's download
# directory (itself a valid file proxy) for third-party modules; a fresh
# GOMODCACHE, GOFLAGS=-mod=mod; the consumer's go.sum starts from the
# repository's go.sum files, so third-party modules are checked against them,
# and checksum lookups are off for miniauth's own modules only (GONOSUMDB).
#
#   bash .ci/consumer.sh                          (.ci/run calls this)
#   MINIAUTH_VERSION=v0.2.0 bash .ci/consumer.sh  serve that version instead,
#                                                 whatever the go.mods require
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
core=$(go list -m)
download="$(go env GOMODCACHE)/cache/download"

tmp=$(mktemp -d)
cleanup() { chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

version=$(cd .ci/modproxy && go run . -repo "$repo" -out "$tmp/proxy" ${MINIAUTH_VERSION:+-version "$MINIAUTH_VERSION"})
nested=$(bash .ci/nested.sh)

# Fill the module cache (online, the machine's own GOPROXY) with what each
# module's whole graph needs, as a tidy reads it (.ci/modules.sh has made sure
# they are tidy): the consumers below see nothing else.
for dir in . $nested; do (cd "$dir" && go mod tidy -diff >/dev/null) || true; done

# The importable packages of a module: no main package, nothing internal.
packages() {
  (cd "$repo/$1" && go list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...) |
    grep -v -e '/internal/' -e '/internal$' || true
}

export GOPROXY="file://$tmp/proxy,file://$download"
export GOMODCACHE="$tmp/modcache"
export GOFLAGS="-mod=mod -trimpath" # -trimpath: the build cache serves the next run, whatever GOMODCACHE is
export GONOSUMDB="$core" GOPRIVATE= GONOPROXY= GOINSECURE=
export GOTOOLCHAIN=local GOWORK=off
step() { echo "consumer: $*"; "$@"; }

# consumer DIR: a module of a user of the module in DIR ("." the core), in
# its own directory: it imports every package of that module and of the
# core, requires the module at the version as `go get <module>@<version>`
# leaves it (for a nested one, the core comes at the version it requires),
# builds, then requires the core at the version too and builds again.
consumer() {
  local dir=$1 name path
  name=$(basename "$([ "$dir" = . ] && echo core || echo "$dir")")
  path=$core; [ "$dir" = . ] || path="$core/$dir"
  mkdir "$tmp/$name"
  (
    cd "$tmp/$name"
    go mod init "example.com/consumer/$name" >/dev/null 2>&1
    go mod edit -go=1.25.0
    {
      echo "// Command $name uses $path as a user of it does."
      echo 'package main'
      echo
      echo 'import ('
      { packages "$dir"; packages .; } | sort -u | sed 's/.*/	_ "&"/'
      echo ')'
      echo
      echo 'func main() {}'
    } >main.go
    # Third-party modules are checked against the sums the repository committed.
    cat "$repo/go.sum" "$repo/$dir/go.sum" | sort -u >go.sum
    echo "consumer: $path@$version, outside the repository ($tmp/$name)"
    go mod edit -require="$path@$version"
    step go build ./...
    step go mod edit -require="$core@$version"
    step go build ./...
    grep -F "$core" go.mod || true
  )
}

echo "consumer: GOPROXY=$GOPROXY"
for dir in . $nested; do consumer "$dir"; done
echo "consumer: ok: the core and $(wc -w <<<"$nested") nested modules at $version build outside the repository, offline"
