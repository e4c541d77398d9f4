"""Starting and driving one keypaird process."""

import contextlib
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

    def _client(self, cls, secret_id=None, retryer=None, timeout=None):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        # Test-credentials mode: any well-formed SecretId is an account, signed with itself.
        if secret_id is None:
            cred = credential.Credential(self.secret_id, self.secret_key)
        else:
            cred = credential.Credential(secret_id, secret_id)
        http = HttpProfile(endpoint=self.endpoint, protocol="http", reqTimeout=timeout)
        return cls(cred, self.region, ClientProfile(httpProfile=http, retryer=retryer))

    def cvm(self, secret_id=None, retryer=None, timeout=None):
        """A `CvmClient` of the official SDK; another `secret_id` is another account;
        `retryer` is the SDK's (a `StandardRetryer`), `timeout` its `reqTimeout` (s)."""
        from tencentcloud.cvm.v20170312 import cvm_client
        return self._client(cvm_client.CvmClient, secret_id, retryer, timeout)

    def lighthouse(self, secret_id=None, retryer=None, timeout=None):
        """A `LighthouseClient` of the official SDK (arguments as for `cvm`)."""
        from tencentcloud.lighthouse.v20200324 import lighthouse_client
        return self._client(lighthouse_client.LighthouseClient, secret_id, retryer, timeout)

    def _admin(self, method, path, body=None, raw=False):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(f"http://{self.endpoint}/_keypaird/{path}", method=method, data=data,
                                     headers={"Authorization": f"Bearer {self._admin_token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read()
                return resp.status, (text.decode() if raw else json.loads(text))
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def _admin_ok(self, method, path, body=None, raw=False):
        status, answer = self._admin(method, path, body, raw)
        if status != 200:
            raise RuntimeError(f"keypaird {method} /_keypaird/{path} failed: {status} {answer}")
        return answer

    # Faults (docs/testing.md, "Faults"): rules that answer matching calls with an error
    # code the product defines, a delay or a dropped connection.

    def fault(self, **rule):
        """Adds a fault rule given in the admin API's names (`Action="CreateKeyPair",
        Error={"Code": "RequestLimitExceeded"}, Times=2`); returns its id."""
        return self._admin_ok("POST", "faults", rule)["Id"]

    @staticmethod
    def _match(action, times, product, after):
        rule = {"Action": action, "Times": times}
        if product:
            rule["Product"] = product
        if after:
            rule["When"] = "after"
        return rule

    def fail_next(self, action, code, times=1, product=None, message=None, after=False):
        """The next `times` calls of `action` answer `code` (instead of running, or with
        `after=True` once they ran: the write stored, the answer lost)."""
        error = {"Code": code} if message is None else {"Code": code, "Message": message}
        return self.fault(Error=error, **self._match(action, times, product, after))

    def delay_next(self, action, seconds, times=1, product=None):
        """The next `times` calls of `action` wait `seconds` first (at most 60)."""
        return self.fault(LatencyMs=int(seconds * 1000), **self._match(action, times, product, False))

    def drop_next(self, action, times=1, product=None, after=False):
        """The next `times` calls of `action` get their connection closed, no answer."""
        return self.fault(Drop=True, **self._match(action, times, product, after))

    def faults(self):
        """The rules in force."""
        return self._admin_ok("GET", "faults")["Rules"]

    def clear_faults(self):
        """Removes every rule (a reset does too)."""
        return self._admin_ok("DELETE", "faults")["Deleted"]

    # The deterministic mode and the clock.

    def seed(self, n):
        """Starts ids, RequestIds and keys over from seed `n`, the clock back at
        2026-01-01T00:00:00Z."""
        return self._admin_ok("POST", "seed", {"Seed": n})

    def clock(self, set_ms=None, advance_ms=None, follow=None, pin_signatures=None):
        """Sets or advances the clock `CreatedTime` comes from; returns its state."""
        change = {k: v for k, v in (("SetMs", set_ms), ("AdvanceMs", advance_ms), ("Follow", follow),
                                    ("PinSignatures", pin_signatures)) if v is not None}
        return self._admin_ok("POST", "clock", change) if change else self._admin_ok("GET", "clock")

    # The journal.

    @contextlib.contextmanager
    def journal(self):
        """Records every call and its answer while the block runs:
        `with keypaird.journal() as j: ...`, then `j.entries()` (or `j.text`)."""
        record = Journal()
        self._admin_ok("POST", "journal/start")
        try:
            yield record
        finally:
            self._admin_ok("POST", "journal/stop")
            record.text = self._admin_ok("GET", "journal", raw=True)

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


class Journal:
    """What `Keypaird.journal()` recorded: `text` (JSON lines), `entries()` (dicts)."""

    def __init__(self):
        self.text = ""

    def entries(self):
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


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


def default_key_cache():
    """Where the fixtures keep seeded keys: $XDG_CACHE_HOME/keypaird/keys, else
    ~/.cache/keypaird/keys."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keypaird", "keys")


def start(binary=None, seed=None, key_cache=None, rate_limits=False):
    """Starts an ephemeral keypaird in test-credentials mode with the admin API on; with
    `seed`, in the deterministic mode, keeping its keys in `key_cache`. The documented
    rate limits are off unless `rate_limits`: a suite sets its own pace, and tests
    `RequestLimitExceeded` with `fail_next`."""
    token = secrets.token_hex(16)
    args = [find_binary(binary), "serve", "--ephemeral", "--test-credentials", "--listen", "127.0.0.1:0",
            "--admin-token", token]
    if not rate_limits:
        args.append("--no-rate-limits")
    if seed is not None:
        args += ["--seed", str(seed)]
        if key_cache:
            args += ["--key-cache", key_cache]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    listening = process.stdout.readline()
    if not listening.startswith("listening on http://"):
        process.kill()
        raise RuntimeError(f"keypaird did not start: {listening!r}")
    line = json.loads(process.stdout.readline())
    return Keypaird(process, line["endpoint"], line["secret_id"], line["secret_key"], line["account"], token)
