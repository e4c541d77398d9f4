#!/usr/bin/env bash
# Runs the test fixtures' own tests and example suites against a keypaird binary: the
# pytest plugin (clients/python/pytest-keypaird: tests/ and examples/) with the official
# Python SDK, and the Node helper (clients/node/keypaird-testing: `npm test`, its
# binary-lookup tests and example suite) with the official Node SDK. Each is installed
# from a copy, so nothing is written into the source tree. Uses the client cache the e2e
# run fills (crates/keypaird/tests/e2e/run.sh), and fills it itself when missing.
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
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/clients/python/pytest-keypaird" "$root/clients/node/keypaird-testing" "$work/"
"$cache/venv/bin/pip" install -q --disable-pip-version-check "$work/pytest-keypaird"
echo "--- pytest plugin: its tests and the example suite"
(cd "$work/pytest-keypaird" && KEYPAIRD_BIN="$bin" "$cache/venv/bin/python" -m pytest -q -p no:cacheprovider tests examples)
echo "--- node helper: npm test (binary lookup and the example suite)"
(cd "$work/keypaird-testing" && npm install --silent --no-audit --no-fund && KEYPAIRD_BIN="$bin" npm test --silent)
