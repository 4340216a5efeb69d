#!/usr/bin/env bash
# Reports how the exported API of the module changed since the baseline, and
# fails on an incompatible change that nobody decided to make.
#
# The baseline is the last release tag (git describe --tags --abbrev=0
# --match 'v[0-9]*'); before the first tag, the commit on the "base" line of
# api/miniauth.txt. apidiff (golang.org/x/exp/cmd/apidiff, pinned below)
# compares the baseline's packages with the working tree's and prints its
# report. An incompatible change fails the check unless api/miniauth.txt lists
# it (the report's line, copied as it is) and CHANGELOG.md's [Unreleased]
# section names the changed identifier (for "./session.(*Manager).Issue":
# "Manager.Issue"). A listed change that the report no longer shows fails too:
# after tagging a release, empty the list.
#
# Usage: .ci/apicheck.sh          (needs git history down to the baseline)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"

# The newest golang.org/x/exp whose go.mod says go 1.25 (the next one needs 1.26).
APIDIFF_VERSION=v0.0.0-20260813180055-c1d0aacb2297
if ! go version -m "$(command -v apidiff 2>/dev/null || echo /nonexistent)" 2>/dev/null | grep -q "golang.org/x/exp[[:space:]]*${APIDIFF_VERSION}"; then
  go install "golang.org/x/exp/cmd/apidiff@${APIDIFF_VERSION}"
fi

module=$(go list -m)
ack=api/miniauth.txt
if base=$(git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD 2>/dev/null); then
  :
else
  base=$(awk '$1 == "base" { print $2; exit }' "$ack")
fi
if [ -z "$base" ] || ! git rev-parse -q --verify "${base}^{commit}" >/dev/null; then
  echo "apicheck: baseline ${base:-(none)} is not in this clone: fetch the history and tags (e.g. fetch-depth: 0)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
(cd "$tmp/base" && apidiff -m -w "$tmp/base.export" "$module")
apidiff -m "$tmp/base.export" "$module" 2>/dev/null >"$tmp/report"

echo "API changes of $module since $base ($(git rev-parse --short "$base")):"
if [ -s "$tmp/report" ]; then cat "$tmp/report"; else echo "(none)"; fi

# The report's incompatible lines, and the acknowledged ones.
awk '/^Incompatible changes:/ { on = 1; next } /^[A-Z]/ { on = 0 } on && /^- / { print }' "$tmp/report" | sort >"$tmp/incompatible"
grep '^- ' "$ack" | sort >"$tmp/acknowledged" || true

fail=0
unacked=$(comm -23 "$tmp/incompatible" "$tmp/acknowledged")
if [ -n "$unacked" ]; then
  fail=1
  cat >&2 <<EOF

apicheck: incompatible API changes since $base that api/miniauth.txt does not acknowledge:
$unacked
If the change is a decision, copy these lines into api/miniauth.txt and name
each identifier in CHANGELOG.md's [Unreleased] section; otherwise undo it
(keep the old name, add a new one).
EOF
fi
stale=$(comm -13 "$tmp/incompatible" "$tmp/acknowledged")
if [ -n "$stale" ]; then
  fail=1
  printf '\napicheck: api/miniauth.txt acknowledges changes that are not (or no longer) made since %s: remove them\n%s\n' "$base" "$stale" >&2
fi

# Every acknowledged change is named in the changelog's [Unreleased] section.
unreleased=$(awk '/^## \[Unreleased\]/ { on = 1; next } /^## \[/ { on = 0 } on' CHANGELOG.md)
while IFS= read -r line; do
  [ -n "$line" ] || continue
  # "- ./session.(*Manager).Issue: changed ..." -> "Manager.Issue",
  # "- ./session/redisstore.New: removed" -> "redisstore.New"
  name=$(printf '%s\n' "$line" | sed -E 's/^- //; s/:.*//; s/[()*]//g; s/.*\///; s/^.*\.([^.]+\.[^.]+)$/\1/')
  if ! grep -qF -- "$name" <<<"$unreleased"; then
    fail=1
    echo "apicheck: CHANGELOG.md [Unreleased] does not mention $name (acknowledged: $line)" >&2
  fi
done <"$tmp/acknowledged"

if [ "$fail" = 0 ]; then
  n=$(wc -l <"$tmp/acknowledged")
  echo "apicheck: ok ($n acknowledged incompatible change(s) since $base)"
fi
exit "$fail"
