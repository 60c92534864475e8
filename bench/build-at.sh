#!/bin/sh
# Compiles the gateway as it was at a commit into bench/results/<name>/dist, for
# `npm run bench:pair -- gateway-full@bench/results/<name>/dist/main.js gateway-full`.
# Usage: bench/build-at.sh <commit> [name]   (name defaults to the commit)
set -eu
commit=$1
name=${2:-$1}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/results/$name"
rm -rf "$out"
mkdir -p "$out/src"
git -C "$root" archive "$commit" src tsconfig.json tsconfig.build.json | tar -x -C "$out/src"
# dist/ reads ../package.json (the version).
git -C "$root" show "$commit:package.json" > "$out/package.json"
# Under the repo, so node_modules resolves to the repo's own.
(cd "$out/src" && "$root/node_modules/.bin/tsc" -p tsconfig.build.json --outDir "$out/dist")
# Only dist/ is needed; a copy of the sources would be picked up by jest and eslint.
rm -rf "$out/src"
echo "$out/dist/main.js"
