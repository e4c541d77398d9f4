#!/usr/bin/env bash
# End-to-end test of keypaird with the official clients: installs the Python SDKs, tccli
# and the Node SDK (into a cache directory), starts keypaird on a free port with a
# generated two-account config and a SQLite file, runs sdk_e2e.py and node_e2e.js, then
# stops the server with SIGTERM and checks it exits cleanly.
#
# Usage: crates/keypaird/tests/e2e/run.sh [path/to/keypaird]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
bin="${1:-$root/target/debug/keypaird}"
cache="${KEYPAIR_E2E_CACHE:-$root/target/e2e-clients}"
mkdir -p "$cache"

if [ ! -x "$cache/venv/bin/tccli" ] || [ ! -f "$cache/venv/.installed-v1" ]; then
    python3 -m venv "$cache/venv"
    "$cache/venv/bin/pip" install -q --disable-pip-version-check \
        tencentcloud-sdk-python-cvm tencentcloud-sdk-python-lighthouse tccli cryptography
    touch "$cache/venv/.installed-v1"
fi
if [ ! -d "$cache/node/node_modules/tencentcloud-sdk-nodejs-cvm" ]; then
    mkdir -p "$cache/node"
    (cd "$cache/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund tencentcloud-sdk-nodejs-cvm)
fi

work="$(mktemp -d)"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

secret() { python3 -c 'import secrets,string; print("".join(secrets.choice(string.ascii_letters+string.digits) for _ in range(32)))'; }
id1="AKIDe2eone$(secret)"; key1="$(secret)"
id2="AKIDe2etwo$(secret)"; key2="$(secret)"
id3="AKIDe2ethree$(secret)"; key3="$(secret)"
# Account 3 lists instances: for each of the four signing modes a running CVM instance
# and a running Lighthouse one of its own (sdk_e2e.py RUNNING), since the cases stop them.
instances=""
for n in 1 2 3 4; do
    instances+="  { id = \"ins-running$n\", state = \"RUNNING\" },"$'\n'
    instances+="  { id = \"lhins-running$n\", state = \"RUNNING\" },"$'\n'
done
cat > "$work/keypaird.toml" <<TOML
listen = "127.0.0.1:0"
store = "sqlite:$work/keypaird.db"
[limits]
cvm_requests_per_second = 1000
lighthouse_requests_per_second = 1000
[[accounts]]
id = "1250000001"
projects = [0, 1001]
credentials = [{ secret_id = "$id1", secret_key = "$key1" }]
[[accounts]]
id = "1250000002"
credentials = [{ secret_id = "$id2", secret_key = "$key2" }]
[[accounts]]
id = "1250000003"
credentials = [{ secret_id = "$id3", secret_key = "$key3" }]
instances = [
$instances  { id = "ins-stopped1", state = "STOPPED" },
  { id = "ins-pending1", state = "PENDING" },
  { id = "ins-stoping1", state = "STOPPING" },
  { id = "ins-reboot01", state = "REBOOTING" },
  { id = "ins-windows1", state = "STOPPED", os = "windows" },
  { id = "ins-busy0001", state = "STOPPED", busy = "task_running" },
  { id = "ins-nocharge", state = "STOPPED", stop_charging = true },
  { id = "ins-rescue01", state = "RESCUE_MODE" },
  { id = "lhins-pending1", state = "PENDING" },
  { id = "lhins-unfinish", state = "RUNNING", busy = "latest_operation_unfinished" },
  { id = "lhins-busy0001", state = "STOPPED", busy = "operation_in_progress" },
  { id = "lhins-windows1", state = "STOPPED", os = "windows" },
]
TOML

"$bin" serve --config "$work/keypaird.toml" --log-format json > "$work/stdout" 2> "$work/stderr" &
server=$!
for _ in $(seq 1 300); do
    grep -q '^listening on ' "$work/stdout" && break
    kill -0 "$server" 2>/dev/null || { cat "$work/stderr"; echo "keypaird exited early"; exit 1; }
    sleep 0.1
done
endpoint="$(sed -n 's#^listening on http://##p' "$work/stdout")"
[ -n "$endpoint" ] || { cat "$work/stderr"; echo "keypaird did not report its address"; exit 1; }
echo "keypaird at $endpoint"

export KEYPAIR_ENDPOINT="$endpoint" KEYPAIR_ID1="$id1" KEYPAIR_KEY1="$key1" KEYPAIR_ID2="$id2" KEYPAIR_KEY2="$key2"
export KEYPAIR_ID3="$id3" KEYPAIR_KEY3="$key3"
"$cache/venv/bin/python" "$here/sdk_e2e.py"
NODE_PATH="$cache/node/node_modules" node "$here/node_e2e.js"

# Secrets never reach the log.
if grep -q -e "$key1" -e "$key2" -e "PRIVATE KEY" "$work/stderr"; then
    echo "a secret key or private key appeared in the log"; exit 1
fi
kill -TERM "$server"
wait "$server"
status=$?
server=""
[ "$status" -eq 0 ] || { echo "keypaird exited with $status after SIGTERM"; exit 1; }
echo "e2e: all passed; keypaird stopped cleanly"
