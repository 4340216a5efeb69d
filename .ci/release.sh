#!/usr/bin/env bash
# Releases miniauth at one version: the core module and every nested module
# (.ci/nested.sh: adapters/ginauth, ..., and any added later), as multi-module
# repositories do (go-redis's scripts/release.sh and tag.sh, OpenTelemetry-Go's
# multimod): one commit in which each nested module requires the core (and any
# other module of the repository) at the version being released, and on it
# the tags vX.Y.Z for the core and <dir>/vX.Y.Z for each nested module, which
# is how the go command finds a nested module's version. The replace
# directives stay: inside the repository the modules build against the
# working tree; a user's go command ignores them and reads the requirement.
#
#   bash .ci/release.sh vX.Y.Z      check, bump, commit, tag (nothing pushed)
#   bash .ci/release.sh -n vX.Y.Z   the checks only: says what it would do
#
# It refuses: a version that is not vMAJOR.MINOR.PATCH[-pre], v0.0.0, a
# version not above the last release tag, a tag that exists, a working tree
# with changes or untracked files, a detached HEAD, a CHANGELOG.md without a
# "## [X.Y.Z]" section for the version, and nested go.mods that are not tidy
# or do not build once bumped; and it runs .ci/consumer.sh (a module outside
# the repository builds against the modules as a proxy will serve them) before
# it commits. It pushes nothing: it prints the push command. CONTRIBUTING.md
# says when to run it and what follows.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "release: $*" >&2; exit 1; }
dry=0
if [ "${1:-}" = -n ]; then dry=1; shift; fi
[ $# -eq 1 ] || die "usage: bash .ci/release.sh [-n] vX.Y.Z"
version=$1

# The version.
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
[[ "$version" =~ $semver ]] || die "$version is not vMAJOR.MINOR.PATCH (or vMAJOR.MINOR.PATCH-pre)"
[ "$version" != v0.0.0 ] || die "v0.0.0 is the placeholder of a module never tagged, not a release"
[[ "$version" == v0.* || "$version" == v1.* ]] || die "$version: a major version above 1 needs a /vN module path first"
core=$(go list -m)
nested=$(bash .ci/nested.sh)
tags=("$version")
for dir in $nested; do tags+=("$dir/$version"); done
for tag in "${tags[@]}"; do
  if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then die "the tag $tag exists"; fi
done
last=$(git tag --list 'v[0-9]*' | sort -V | tail -1)
if [ -n "$last" ] && [ "$(printf '%s\n%s\n' "$last" "$version" | sort -V | tail -1)" != "$version" ]; then
  die "$version is not above the last release $last"
fi

# The tree.
[ -z "$(git status --porcelain)" ] || die "the working tree has changes or untracked files: commit or stash them first"
branch=$(git symbolic-ref --short -q HEAD) || die "HEAD is detached: release from a branch (main)"
grep -q "^## \[${version#v}\]" CHANGELOG.md ||
  die "CHANGELOG.md has no section \"## [${version#v}] - $(date -u +%Y-%m-%d)\": rename [Unreleased] to it and commit"

# The modules of the repository, by path: a nested module's requirement of
# any of them moves to the version.
paths=("$core")
for dir in $nested; do paths+=("$core/$dir"); done
echo "release: $core $version from $branch at $(git rev-parse --short HEAD)${last:+ (last release $last)}"
for dir in $nested; do
  for p in "${paths[@]}"; do
    have=$(cd "$dir" && go list -m -f '{{if not .Main}}{{.Version}}{{end}}' "$p" 2>/dev/null || true)
    # A replaced module lists its requirement's version; no requirement: nothing.
    [ -n "$have" ] || continue
    echo "release: $dir/go.mod: $p $have -> $version"
    if [ "$dry" = 0 ]; then (cd "$dir" && go mod edit -require="$p@$version"); fi
  done
done
if [ "$dry" = 1 ]; then
  printf 'release: would commit the go.mods, run .ci/consumer.sh and tag: %s\n' "${tags[*]}"
  exit 0
fi

for dir in $nested; do
  (
    cd "$dir"
    go mod tidy -diff >/dev/null || die "$dir: go.mod or go.sum not tidy once bumped: run 'go mod tidy' there"
    go build ./...
  )
done
bash .ci/consumer.sh

if [ -n "$(git status --porcelain)" ]; then
  git add -- $(git ls-files -m '*go.mod' '*go.sum')
  git commit -q -m "release $version: the nested modules require $core $version"
  echo "release: committed $(git rev-parse --short HEAD)"
fi
for tag in "${tags[@]}"; do
  dir=${tag%"$version"}; dir=${dir%/}
  git tag -a "$tag" -m "${core}${dir:+/$dir} $version"
  echo "release: tagged $tag"
done

cat <<EOF

release: done, nothing pushed. Look at it (git show; git tag -n --list '*$version'), then:

  git push --atomic origin $branch ${tags[*]}

Then, in a new commit: empty api/miniauth.txt's list of acknowledged changes
(.ci/apicheck.sh compares with $version from now on) and start CHANGELOG.md's
next "## [Unreleased]" section.
EOF
