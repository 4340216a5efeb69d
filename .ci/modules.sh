#!/usr/bin/env bash
# CI for the nested modules (the framework adapters under adapters/): each
# has its own go.mod, so the root module's ./... does not reach them. For
# each module: go.mod and go.sum tidy (they are committed, so CI resolves
# nothing), gofmt, go vet, staticcheck, and go test -race.
#
#   bash .ci/modules.sh        all checks (.ci/run calls this)
#   bash .ci/modules.sh test   only the tests (e.g. under GOTOOLCHAIN=go1.25.x)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
only_test=${1:-}
STATICCHECK_VERSION=v0.8.2
if [ "$only_test" != test ] && ! staticcheck -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi

for dir in $(git ls-files '*/go.mod' | xargs -n1 dirname | sort); do
  t0=$(date +%s)
  echo "-- $dir ($(go version | cut -d' ' -f3))"
  (
    cd "$dir"
    if [ "$only_test" != test ]; then
      if ! go mod tidy -diff; then
        echo "$dir: go.mod or go.sum is not tidy: run 'go mod tidy' in $dir and commit"; exit 1
      fi
      unformatted=$(gofmt -l .)
      if [ -n "$unformatted" ]; then
        echo "gofmt would change:"; echo "$unformatted"; exit 1
      fi
      go vet ./...
      staticcheck ./...
    fi
    go test -race -count=1 ./...
  )
  echo "   $dir: $(( $(date +%s) - t0 ))s"
done
