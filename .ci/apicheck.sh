#!/usr/bin/env bash
# Reports how the exported API of the module changed since the baseline, and
# fails on an incompatible change that nobody decided to make. The nested
# modules (.ci/nested.sh: adapters/ginauth, ...) are checked too, each
# against its own state at the baseline (one absent there is all "added");
# their report lines name the package from the repository's root, as in
# "- ./adapters/ginauth.Login: changed from ...".
#
# The baseline is the last release tag (git describe --tags --abbrev=0
# --match 'v[0-9]*'); before the first tag, the commit on the "base" line of
# api/miniauth.txt. apidiff (golang.org/x/exp/cmd/apidiff, pinned below)
# compares the baseline's packages with the working tree's and prints its
# report. An incompatible change fails the check unless api/miniauth.txt lists
# it (the report's line, copied as it is) and CHANGELOG.md's newest section
# ([Unreleased], or the one of the release being tagged) names the changed identifier (for "./session.(*Manager).Issue":
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

# The nested modules. One absent at the baseline is compared with an empty
# module of its path (one package, no names), so that all of it is "added".
for dir in $(bash .ci/nested.sh); do
  path="$module/$dir"
  export_file="$tmp/$(printf '%s' "$dir" | tr / _).export"
  if [ -f "$tmp/base/$dir/go.mod" ]; then
    (cd "$tmp/base/$dir" && apidiff -m -w "$export_file" "$path")
  else
    mkdir -p "$tmp/empty/$dir"
    printf 'module %s\n\ngo 1.25.0\n' "$path" >"$tmp/empty/$dir/go.mod"
    printf 'package %s\n' "$(basename "$dir")" >"$tmp/empty/$dir/doc.go"
    (cd "$tmp/empty/$dir" && apidiff -m -w "$export_file" "$path")
  fi
  # "- Login: ..." (the module's root package) -> "- ./adapters/ginauth.Login: ...",
  # "- ./sub.X: ..." -> "- ./adapters/ginauth/sub.X: ...".
  (cd "$dir" && apidiff -m "$export_file" "$path" 2>/dev/null) |
    sed -E "s#^- \./#- ./$dir/#; t; s#^- #- ./$dir.#" >"$tmp/report.nested"
  echo
  echo "API changes of $path since $base$([ -f "$tmp/base/$dir/go.mod" ] || echo ', where it was absent'):"
  if [ -s "$tmp/report.nested" ]; then cat "$tmp/report.nested"; else echo "(none)"; fi
  cat "$tmp/report.nested" >>"$tmp/report"
done

# The report's incompatible lines, and the acknowledged ones.
awk '/^Incompatible changes:/ { on = 1; next } !/^- / { on = 0 } on { print }' "$tmp/report" | sort >"$tmp/incompatible"
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

# Every acknowledged change is named in the changelog's newest section:
# [Unreleased], or the release's own "## [X.Y.Z]" once .ci/release.sh is due.
unreleased=$(awk '/^## \[/ { if (seen) exit; seen = 1; next } seen' CHANGELOG.md)
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
