#!/usr/bin/env bash
# Runs the tests on the oldest supported Go release (the go directive in
# go.mod), besides the installed one that .ci/run uses. The Go module proxy
# serves the toolchain: the first run downloads it (~70 MB) into the module
# cache, later runs reuse it. REDIS_ADDR and CI come from .ci/run.
#
# GO_OLDEST is the newest go1.25 patch release the proxy serves; bump it when
# a new one appears (the proxy is the machine's: go env GOPROXY):
#   go list -m -versions golang.org/toolchain | tr ' ' '\n' | grep 'go1\.25.*linux-amd64' | sort -V | tail -1
# (it prints v0.0.1-go1.25.N.linux-amd64: GO_OLDEST is go1.25.N)
set -euo pipefail
cd "$(dirname "$0")/.."
GO_OLDEST="${GO_OLDEST:-go1.25.14}"

# GOTOOLCHAIN=<version> (no +auto) runs exactly that release, or fails.
GOTOOLCHAIN="$GO_OLDEST" go version
GOTOOLCHAIN="$GO_OLDEST" go test -race -count=1 ./...
# The nested modules (framework adapters) too.
GOTOOLCHAIN="$GO_OLDEST" bash .ci/modules.sh test
