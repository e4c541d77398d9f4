"""Shared pieces of the fleet and failover tests: throwaway PostgreSQL clusters (a
primary, and a synchronous standby by streaming replication), keypaird servers on them,
and a signing client. Standard library only.

Clusters run as the `postgres` user when this runs as root (initdb refuses root), in
directories that user owns, on 127.0.0.1 with trust authentication, and are stopped
(or killed) by the test; `atexit` kills whatever is left.
"""

import atexit
import base64
import glob
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
CVM, LIGHTHOUSE = "2017-03-12", "2020-03-24"
_CLEANUP = []


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    raise SystemExit(1)


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        fail(f"no {name}: install the PostgreSQL server binaries")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv):
    return ["runuser", "-u", "postgres", "--"] + argv if os.geteuid() == 0 else argv


def _run(argv, **kw):
    return subprocess.run(_as_postgres(argv), check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


def workdir(prefix):
    """A temporary directory the postgres user may write in."""
    d = tempfile.mkdtemp(prefix=prefix)
    if os.geteuid() == 0:
        shutil.chown(d, "postgres", "postgres")
    _CLEANUP.append(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


class Cluster:
    """One PostgreSQL server in `base/name`, on a free 127.0.0.1 port."""

    def __init__(self, base, name):
        self.data = os.path.join(base, name)
        self.port = free_port()
        self.log = os.path.join(base, f"{name}.log")

    def init_primary(self, sync_standby=None):
        _run([pg_bin("initdb"), "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--locale=C", "--no-sync"])
        settings = ["max_connections=200", "fsync=off", "full_page_writes=off"]
        if sync_standby:
            # Commits wait for the standby's flush: an acknowledged write survives the
            # primary's loss. Set on the command line, so a base backup does not copy it.
            settings += [f"synchronous_standby_names={sync_standby}", "synchronous_commit=on"]
        self.start(settings)
        return self

    def init_standby(self, primary, app_name):
        _run([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
              "-D", self.data, "-X", "stream", "-R",
              "-d", f"host=127.0.0.1 port={primary.port} user=postgres application_name={app_name}"])
        self.start(["max_connections=200", "fsync=off", "full_page_writes=off"])
        return self

    def start(self, settings):
        opts = f"-p {self.port} -k {os.path.dirname(self.data)} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {s}" for s in settings)
        _run([pg_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "60", "start"])
        _CLEANUP.append(self.kill)

    def pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def kill(self):
        """SIGKILL the postmaster and its children: the machine is gone."""
        pid = self.pid()
        if pid is None:
            return
        children = subprocess.run(["pgrep", "-P", str(pid)], stdout=subprocess.PIPE, text=True).stdout.split()
        for p in [pid] + [int(c) for c in children]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def promote(self):
        _run([pg_bin("pg_ctl"), "-D", self.data, "-w", "-t", "60", "promote"])

    def sql(self, query):
        out = subprocess.run([pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                              "-d", "postgres", "-AtX", "-F", "\t", "-c", query],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def wait_sync_standby(self, app_name, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            rows = self.sql("SELECT application_name, sync_state FROM pg_stat_replication")
            if [app_name, "sync"] in rows:
                return
            time.sleep(0.1)  # polling a condition with a deadline
        fail(f"standby {app_name} did not become synchronous: {rows}")


class Keypaird:
    """A keypaird serving `store` (None: a SQLite file in its own directory), with
    `accounts` = [(account id, SecretId, SecretKey)], logging to `self.log`."""

    def __init__(self, binary, store, accounts, limits="", name="keypaird", pool_size=16):
        self.work = tempfile.mkdtemp(prefix=f"keypair-{name}-")
        _CLEANUP.append(lambda: shutil.rmtree(self.work, ignore_errors=True))
        store = store or f"sqlite:{self.work}/keys.db"
        config = os.path.join(self.work, "keypaird.toml")
        body = "".join(f'[[accounts]]\nid = "{a}"\ncredentials = [{{ secret_id = "{i}", secret_key = "{k}" }}]\n'
                       for a, i, k in accounts)
        with open(config, "w") as f:
            f.write(f'listen = "127.0.0.1:0"\nstore = "{store}"\n[limits]\n{limits}\n'
                    f"[keygen]\npool_size = {pool_size}\n{body}")
        self.log = os.path.join(self.work, "server.log")
        self.proc = subprocess.Popen([binary, "serve", "--config", config], stdout=subprocess.PIPE,
                                     stderr=open(self.log, "w"), text=True)
        _CLEANUP.append(self.stop)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on http://(\S+):(\d+)", line)
        if not m:
            fail(f"{name} did not start: {line!r}\n{open(self.log).read()[-3000:]}")
        self.host, self.port = m.group(1), int(m.group(2))
        self.name = name

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def tc3_headers(secret_id, secret_key, action, body, host, version=CVM, service="cvm"):
    ts = int(time.time())
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    ct = "application/json; charset=utf-8"
    canonical = "\n".join(["POST", "/", "", f"content-type:{ct}\nhost:{host}\n", "content-type;host",
                           hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(ts), scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = h(h(h(("TC3" + secret_key).encode(), date), service), "tc3_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Authorization": f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={sig}",
        "Content-Type": ct, "Host": host, "X-TC-Action": action, "X-TC-Version": version,
        "X-TC-Timestamp": str(ts),
    }


def call(srv, cred, action, params, version=CVM, timeout=15):
    """A TC3-signed POST; returns the `Response` object. Raises on transport failure."""
    _, secret_id, secret_key = cred
    service = "cvm" if version == CVM else "lighthouse"
    body = json.dumps(params).encode()
    host = f"{srv.host}:{srv.port}"
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    try:
        c.request("POST", "/", body=body, headers=tc3_headers(secret_id, secret_key, action, body, host,
                                                                version, service))
        return json.loads(c.getresponse().read())["Response"]
    finally:
        c.close()


def legacy_body(cred, params, host, nonce):
    """A legacy HmacSHA256 form body signed for `host` (no port: every server accepts it)."""
    _, secret_id, secret_key = cred
    p = dict(params, SecretId=secret_id, Timestamp=str(int(time.time())), Nonce=str(nonce),
             SignatureMethod="HmacSHA256")
    query = "&".join(f"{k}={p[k]}" for k in sorted(p))
    p["Signature"] = base64.b64encode(
        hmac.new(secret_key.encode(), f"POST{host}/?{query}".encode(), hashlib.sha256).digest()).decode()
    return urllib.parse.urlencode(p).encode()


def post_form(srv, body, timeout=15):
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    try:
        c.request("POST", "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        return json.loads(c.getresponse().read())["Response"]
    finally:
        c.close()


def code(resp):
    return resp.get("Error", {}).get("Code", "OK")


def synthetic_key(seed, comment=""):
    """A well-formed 2048-bit ssh-rsa public key (not a real key pair's), for imports."""
    import random
    n = random.Random(seed).getrandbits(2048) | (1 << 2047) | 1

    def mpint(x):
        b = x.to_bytes((x.bit_length() + 8) // 8, "big")
        return len(b).to_bytes(4, "big") + b
    blob = len(b"ssh-rsa").to_bytes(4, "big") + b"ssh-rsa" + mpint(65537) + mpint(n)
    return f"ssh-rsa {base64.b64encode(blob).decode()} {comment}".rstrip()


def build_keypaird(release=True):
    args = ["cargo", "build", "-q", "-p", "keypaird"] + (["--release"] if release else [])
    subprocess.run(args, check=True, cwd=ROOT)
    return os.path.join(ROOT, "target", "release" if release else "debug", "keypaird")


@atexit.register
def _cleanup():
    for f in reversed(_CLEANUP):
        try:
            f()
        except Exception:  # cleanup of a test that already reported its outcome
            pass
