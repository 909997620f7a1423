#!/usr/bin/env bash
# Fetches Keycloak's server distribution from Maven Central (the only place on these machines that
# serves it: no container registry, no GitHub downloads) and unzips it once into a cache folder outside
# the repository. Prints the unzipped folder on stdout; everything else goes to stderr.
#
#   scripts/fetch-keycloak.sh [version]        default: $KEYCLOAK_VERSION or 26.7.3
#   KEYCLOAK_CACHE_DIR=/some/dir scripts/fetch-keycloak.sh
#
# The end-to-end harness (test/support/keycloak.ts) calls this; CI may call it ahead of the tests to
# separate "download" from "test" in its log. Idempotent: a finished unzip is marked and reused.
set -euo pipefail

version="${1:-${KEYCLOAK_VERSION:-26.7.3}}"
cache="${KEYCLOAK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/board-bff/keycloak}"
dist="$cache/keycloak-$version"
marker="$dist/.board-bff-unzipped"

if [[ -f "$marker" && -f "$dist/bin/kc.sh" ]]; then
  echo "$dist"
  exit 0
fi

fail() { echo "fetch-keycloak: $*" >&2; exit 1; }
command -v mvn >/dev/null || fail "mvn (Apache Maven) is not installed; it fetches org.keycloak:keycloak-quarkus-dist:$version:zip from Maven Central"
command -v java >/dev/null || [[ -n "${JAVA_HOME:-}" ]] || fail "no Java found (java on PATH or JAVA_HOME); Keycloak $version needs Java 17 or newer"

mkdir -p "$cache"
# One fetcher at a time: a second run waits here instead of unzipping over the first one's files.
exec 9>"$cache/.fetch.lock"
if command -v flock >/dev/null; then flock 9; fi
if [[ -f "$marker" ]]; then echo "$dist"; exit 0; fi

zip="$cache/keycloak-quarkus-dist-$version.zip"
if [[ ! -f "$zip" ]]; then
  echo "fetch-keycloak: downloading org.keycloak:keycloak-quarkus-dist:$version:zip with Maven (~160 MB, once per machine)" >&2
  started=$(date +%s)
  # dependency:copy resolves through ~/.m2 (a machine that already has the zip downloads nothing).
  # Maven's own output is kept aside and shown only if it fails.
  mvnlog="$cache/.mvn-$version.log"
  if ! mvn -B -q -Dstyle.color=never -Dmaven.repo.local="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:zip" \
    -DoutputDirectory="$cache" >"$mvnlog" 2>&1; then
    cat "$mvnlog" >&2
    fail "mvn could not fetch org.keycloak:keycloak-quarkus-dist:$version:zip (is Maven Central reachable? is $version served?)"
  fi
  rm -f "$mvnlog"
  echo "fetch-keycloak: fetched in $(( $(date +%s) - started )) s" >&2
fi

# Unzip next to the final place, then rename: an interrupted unzip never looks finished.
staging="$(mktemp -d "$cache/.unzip.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
if command -v unzip >/dev/null; then
  unzip -q "$zip" -d "$staging"
elif command -v python3 >/dev/null; then
  python3 -m zipfile -e "$zip" "$staging"
else
  fail "neither unzip nor python3 is installed to unpack $zip"
fi
[[ -f "$staging/keycloak-$version/bin/kc.sh" ]] || fail "$zip does not contain keycloak-$version/bin/kc.sh"
rm -rf "$dist"
mv "$staging/keycloak-$version" "$dist"
touch "$marker"
# The copy in ~/.m2 stays; this one is not needed once unpacked.
rm -f "$zip"
echo "$dist"
