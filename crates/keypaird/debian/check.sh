#!/usr/bin/env bash
# Builds keypaird's Debian package, installs it with dpkg, and checks it as an operator
# would: `systemd-analyze verify` on its unit, the user and permissions its scripts set
# up, then the installed binary run as the unit runs it (its user, its working directory,
# its packaged config), asked DescribeKeyPairs by the official Python SDK with the
# credential the first start wrote. Finally the package is purged.
#
# It changes the machine (a package, a system user): run it as root on a CI machine or a
# scratch container. Usage: crates/keypaird/debian/check.sh PYTHON
# (PYTHON: an interpreter with tencentcloud-sdk-python-cvm installed)
set -euo pipefail
python="$1"
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$repo"
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked --version 3.8.0
cargo deb -p keypaird --quiet
deb="$(ls -t target/debian/keypaird_*.deb | head -1)"
echo "built $deb ($(du -h "$deb" | cut -f1))"
dpkg -i "$deb" >/dev/null
unit=/lib/systemd/system/keypaird.service
systemd-analyze verify "$unit"
echo "systemd-analyze verify $unit: ok"
[ "$(stat -c '%U:%G %a' /etc/keypaird/keypaird.toml)" = "root:keypaird 640" ]
[ "$(stat -c '%U:%G %a' /var/lib/keypaird)" = "keypaird:keypaird 750" ]
echo "user keypaird, /etc/keypaird/keypaird.toml root:keypaird 640, /var/lib/keypaird keypaird 750: ok"
out="$(mktemp)"
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
    rm -f "$out"
    dpkg --purge keypaird >/dev/null 2>&1 || true
    rm -rf /var/lib/keypaird
}
trap cleanup EXIT
# No systemd runs here: start it as the unit does.
(cd /var/lib/keypaird && exec setpriv --reuid=keypaird --regid=keypaird --init-groups /usr/bin/keypaird serve --config /etc/keypaird/keypaird.toml) >"$out" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$out" && break
    sleep 0.1
done
grep '^listening on ' "$out" || { cat "$out"; exit 1; }
credentials=/var/lib/keypaird/keypaird-credentials.toml
[ "$(stat -c '%U %a' "$credentials")" = "keypaird 600" ]
TENCENTCLOUD_SECRET_ID="$(sed -n 's/^secret_id = "\(.*\)"$/\1/p' "$credentials")" \
TENCENTCLOUD_SECRET_KEY="$(sed -n 's/^secret_key = "\(.*\)"$/\1/p' "$credentials")" \
"$python" - <<'PY'
import os
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models

cred = credential.Credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"])
profile = ClientProfile(httpProfile=HttpProfile(endpoint="127.0.0.1:8080", protocol="http"))
page = cvm_client.CvmClient(cred, "ap-guangzhou", profile).DescribeKeyPairs(models.DescribeKeyPairsRequest())
assert page.TotalCount == 0, page.to_json_string()
print("installed keypaird answered DescribeKeyPairs to the official Python SDK: TotalCount", page.TotalCount)
PY
kill -TERM "$server"
wait "$server"
server=
echo "SIGTERM: clean stop"
