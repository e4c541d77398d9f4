#!/usr/bin/env bash
# Runs the example suites of the test fixtures against a keypaird binary: the pytest
# plugin (clients/python/pytest-keypaird) with the official Python SDK, and the Node
# helper (clients/node/keypaird-testing) with node --test and the official Node SDK.
# Uses the client cache the e2e run fills (crates/keypaird/tests/e2e/run.sh), and fills
# it itself when missing.
#
# Usage: clients/run-examples.sh [path/to/keypaird]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "$(dirname "${1:-$root/target/debug/keypaird}")" && pwd)/$(basename "${1:-keypaird}")"
cache="${KEYPAIR_E2E_CACHE:-$root/target/e2e-clients}"
if [ ! -x "$cache/venv/bin/python" ]; then
    python3 -m venv "$cache/venv"
    "$cache/venv/bin/pip" install -q --disable-pip-version-check \
        tencentcloud-sdk-python-cvm tencentcloud-sdk-python-lighthouse
fi
# A copy, so the build leaves nothing in the source tree.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/clients/python/pytest-keypaird" "$work/"
"$cache/venv/bin/pip" install -q --disable-pip-version-check "$work/pytest-keypaird"
echo "--- pytest plugin"
KEYPAIRD_BIN="$bin" "$cache/venv/bin/python" -m pytest -q -p no:cacheprovider \
    "$root/clients/python/pytest-keypaird/examples"
if [ ! -d "$cache/node/node_modules/tencentcloud-sdk-nodejs-cvm" ]; then
    mkdir -p "$cache/node"
    (cd "$cache/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund tencentcloud-sdk-nodejs-cvm)
fi
echo "--- node helper"
KEYPAIRD_BIN="$bin" NODE_PATH="$cache/node/node_modules" node --test "$root/clients/node/keypaird-testing/test/"
