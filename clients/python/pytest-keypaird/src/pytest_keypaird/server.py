"""Starting and driving one keypaird process."""

import json
import os
import urllib.error
import secrets
import shutil
import subprocess
import urllib.request

REGION = "ap-guangzhou"


class Keypaird:
    """A running keypaird: where it listens, the credential to sign with, clients of the
    official SDKs (when installed), and the admin API's reset and readiness."""

    def __init__(self, process, endpoint, secret_id, secret_key, account, admin_token):
        self.process = process
        self.endpoint = endpoint
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.account = account
        self.region = REGION
        self._admin_token = admin_token

    def _client(self, cls, secret_id=None):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        # Test-credentials mode: any well-formed SecretId is an account, signed with itself.
        if secret_id is None:
            cred = credential.Credential(self.secret_id, self.secret_key)
        else:
            cred = credential.Credential(secret_id, secret_id)
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=self.endpoint, protocol="http"))
        return cls(cred, self.region, profile)

    def cvm(self, secret_id=None):
        """A `CvmClient` of the official SDK; another `secret_id` is another account."""
        from tencentcloud.cvm.v20170312 import cvm_client
        return self._client(cvm_client.CvmClient, secret_id)

    def lighthouse(self, secret_id=None):
        """A `LighthouseClient` of the official SDK."""
        from tencentcloud.lighthouse.v20200324 import lighthouse_client
        return self._client(lighthouse_client.LighthouseClient, secret_id)

    def _admin(self, method, path):
        req = urllib.request.Request(f"http://{self.endpoint}/_keypaird/{path}", method=method,
                                     headers={"Authorization": f"Bearer {self._admin_token}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def reset(self, account=None):
        """Removes every key pair (of one account, given its id); returns how many."""
        path = "reset" + (f"?account={account}" if account else "")
        status, body = self._admin("POST", path)
        if status != 200:
            raise RuntimeError(f"keypaird reset failed: {status} {body}")
        return body["Removed"]

    def ready(self):
        """Whether the server can serve requests now (the admin readiness check)."""
        return self._admin("GET", "ready")[0] == 200

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def _clone_root(directory):
    """The root of the keypair clone `directory` is in (it has crates/keypaird), or None."""
    d = os.path.abspath(directory)
    while True:
        if os.path.isfile(os.path.join(d, "crates", "keypaird", "Cargo.toml")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def find_binary(explicit=None):
    """`explicit` (--keypaird-binary), else `$KEYPAIRD_BIN`, else `keypaird` on the PATH,
    else target/release/keypaird of the clone the current directory is in."""
    if explicit:
        return explicit
    if os.environ.get("KEYPAIRD_BIN"):
        return os.environ["KEYPAIRD_BIN"]
    on_path = shutil.which("keypaird")
    if on_path:
        return on_path
    root = _clone_root(os.getcwd())
    built = os.path.join(root, "target", "release", "keypaird") if root else None
    if built and os.access(built, os.X_OK):
        return built
    where = f"; {built} does not exist" if built else "; the current directory is not in a clone"
    raise RuntimeError(
        "keypaird not found: set KEYPAIRD_BIN to its path (or pass --keypaird-binary), or put it "
        "on the PATH (cargo install --locked --path crates/keypaird in a clone of keypair), or run "
        "from a clone that has built it (cargo build --release -p keypaird gives "
        "target/release/keypaird)" + where
    )


def start(binary=None):
    """Starts an ephemeral keypaird in test-credentials mode with the admin API on."""
    token = secrets.token_hex(16)
    process = subprocess.Popen(
        [find_binary(binary), "serve", "--ephemeral", "--test-credentials", "--listen", "127.0.0.1:0",
         "--admin-token", token],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    listening = process.stdout.readline()
    if not listening.startswith("listening on http://"):
        process.kill()
        raise RuntimeError(f"keypaird did not start: {listening!r}")
    line = json.loads(process.stdout.readline())
    return Keypaird(process, line["endpoint"], line["secret_id"], line["secret_key"], line["account"], token)
