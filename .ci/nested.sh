#!/usr/bin/env bash
# Prints the directory of each nested module that a release tags, one a line:
# every */go.mod (git ls-files) whose module path is the core's joined with its
# directory (adapters/ginauth: github.com/wxmp/miniauth/adapters/ginauth), so
# that the tag <dir>/vX.Y.Z is the one the go command looks for. A go.mod of
# another path (.ci/modproxy, a tool of CI) is no released module; one under
# the core's path in the wrong directory is an error. .ci/release.sh,
# .ci/apicheck.sh and .ci/consumer.sh take their list of modules from here.
set -euo pipefail
cd "$(dirname "$0")/.."
core=$(awk '$1 == "module" { gsub(/"/, "", $2); print $2; exit }' go.mod)
for f in $(git ls-files '*/go.mod' | sort); do
  dir=$(dirname "$f")
  path=$(awk '$1 == "module" { gsub(/"/, "", $2); print $2; exit }' "$f")
  case "$path" in
    "$core/$dir") echo "$dir" ;;
    "$core" | "$core"/*)
      echo "nested.sh: $f says module $path, not $core/$dir: the tag $dir/vX.Y.Z would not release it" >&2
      exit 1 ;;
  esac
done
