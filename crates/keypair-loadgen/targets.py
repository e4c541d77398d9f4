#!/usr/bin/env python3
"""Measures the performance targets of docs/benchmarks.md side by side, round after round.

Usage: python3 crates/keypair-loadgen/targets.py [--rounds 3] [--python PATH]

Builds keypaird and keypair-loadgen in release, seeds (once, cached in target/perf) a
SQLite store with 1,000,000 key pairs over 1,000 accounts, then per round starts keypaird
on it (rate limits off, quota raised, aws-lc backend, pool of 64) and runs:

  T6  single-thread key rate: keypair-loadgen --keygen-rate aws-lc, and the same loop in
      Python `cryptography` (the fastest OpenSSL here) when --python has it
  T1  CreateKeyPair, warm pool, one client, 50 requests
  T3  DescribeKeyPairs Limit 20, 64 connections, then the limit yardstick with the same
      request and settings: `keypair-loadgen --serve-limit BYTES` answering every
      TC3-signed request with a fixed body the size of the real answer
  T5  ImportKeyPair, 16 connections
  T2  CreateKeyPair sustained with the pool drained, 4 connections
  T4  DescribeKeyPairs p99 (16 connections) alone, then while CreateKeyPair saturates key
      generation from a second load generator

and prints the medians over the rounds as a Markdown table (raw JSON in target/perf).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REL = os.path.join(ROOT, "target", "release")
PERF = os.path.join(ROOT, "target", "perf")
LOADGEN = os.path.join(REL, "keypair-loadgen")
KEYPAIRD = os.path.join(REL, "keypaird")
SEEDED = os.path.join(PERF, "seeded-1m.db")
DESCRIBE_ACCOUNT = "1300000500"
ID, KEY = "AKIDperfdescribe0000000000000000", "perf-describe-secret-key-0000000"
ID2, KEY2 = "AKIDperfwriter00000000000000000", "perf-writer-secret-key-00000000"

PY_KEYGEN = """
import time, json
from cryptography.hazmat.primitives.asymmetric import rsa
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < %f:
    rsa.generate_private_key(public_exponent=65537, key_size=2048); n += 1
print(json.dumps({"throughput": n / (time.perf_counter() - t0)}))
"""


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def loadgen(*args, endpoint=None, cred=(ID, KEY)):
    cmd = [LOADGEN, "--json", *args]
    if endpoint:
        cmd += ["--endpoint", endpoint, "--secret-id", cred[0], "--secret-key", cred[1]]
    return json.loads(sh(*cmd).strip().splitlines()[-1])


def start_server(workdir, store_suffix="", seeded=True):
    db = os.path.join(workdir, "perf.db")
    if seeded:
        shutil.copyfile(SEEDED, db)
    config = os.path.join(workdir, "keypaird.toml")
    with open(config, "w") as f:
        f.write(f"""listen = "127.0.0.1:0"
store = "sqlite:{db}{store_suffix}"
[limits]
key_pairs_per_account = 100000000
cvm_requests_per_second = 0
lighthouse_requests_per_second = 0
[keygen]
backend = "aws-lc"
pool_size = 64
[[accounts]]
id = "{DESCRIBE_ACCOUNT}"
credentials = [{{ secret_id = "{ID}", secret_key = "{KEY}" }}]
[[accounts]]
id = "2000000001"
credentials = [{{ secret_id = "{ID2}", secret_key = "{KEY2}" }}]
""")
    proc = subprocess.Popen([KEYPAIRD, "serve", "--config", config], stdout=subprocess.PIPE,
                            stderr=open(os.path.join(workdir, "server.log"), "w"), text=True)
    line = proc.stdout.readline()
    endpoint = re.match(r"listening on http://(\S+)", line).group(1)
    return proc, endpoint


def describe_answer_bytes(endpoint, cred=(ID, KEY)):
    """The size of a real DescribeKeyPairs Limit 20 answer from `endpoint`."""
    sys.path.insert(0, os.path.join(ROOT, "crates", "keypaird", "tests", "fleet"))
    import pgfleet
    host, port = endpoint.rsplit(":", 1)
    body = json.dumps({"Limit": 20}).encode()
    headers = pgfleet.tc3_headers(cred[0], cred[1], "DescribeKeyPairs", body, endpoint)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", "/", body=body, headers=headers)
    raw = conn.getresponse().read()
    conn.close()
    return len(raw)


def yardstick(endpoint, secs, concurrency=64, cred=(ID, KEY)):
    """The same describe load against `keypair-loadgen --serve-limit`, its body the size
    of `endpoint`'s real answer: what this machine can do for that request shape."""
    size = describe_answer_bytes(endpoint, cred)
    server = subprocess.Popen([LOADGEN, "--serve-limit", str(size), "--secret-id", cred[0],
                               "--secret-key", cred[1]], stdout=subprocess.PIPE, text=True)
    try:
        limit_ep = re.match(r"listening on http://(\S+)", server.stdout.readline()).group(1)
        out = loadgen("--action", "DescribeKeyPairs", "--concurrency", str(concurrency), "--duration", f"{secs}s",
                      endpoint=limit_ep, cred=cred)
    finally:
        server.terminate()
        server.wait()
    return dict(out, bytes=size)


def pool_depth(endpoint):
    text = urllib.request.urlopen(f"http://{endpoint}/metrics").read().decode()
    return int(re.search(r"^keypair_key_pool_depth (\d+)$", text, re.M).group(1))


def wait_pool_full(endpoint, size=64, timeout=120):
    end = time.time() + timeout
    while pool_depth(endpoint) < size:
        if time.time() > end:
            raise RuntimeError("the key pool did not fill")
        time.sleep(0.5)


def one_round(python, secs):
    r = {}
    r["T6 aws-lc keys/s"] = loadgen("--keygen-rate", "aws-lc", "--duration", f"{secs}s")["throughput"]
    if python:
        out = subprocess.run([python, "-c", PY_KEYGEN % secs], text=True, capture_output=True)
        if out.returncode == 0:
            r["T6 openssl keys/s"] = json.loads(out.stdout)["throughput"]
    work = tempfile.mkdtemp(prefix="keypair-perf-")
    proc, ep = start_server(work)
    try:
        wait_pool_full(ep)
        t1 = loadgen("--action", "CreateKeyPair", "--concurrency", "1", "--requests", "50", "--duration", "60s",
                     endpoint=ep, cred=(ID2, KEY2))
        r["T1 create warm p50 ms"], r["T1 create warm p99 ms"] = t1["p50_ms"], t1["p99_ms"]
        t3 = loadgen("--action", "DescribeKeyPairs", "--concurrency", "64", "--duration", f"{secs}s", endpoint=ep)
        limit = yardstick(ep, secs)
        r["T3 describe/s"], r["T3 limit/s"], r["T3 answer bytes"] = t3["throughput"], limit["throughput"], limit["bytes"]
        r["T3 ratio"], r["T3 describe p99 ms"] = t3["throughput"] / limit["throughput"], t3["p99_ms"]
        t5 = loadgen("--action", "ImportKeyPair", "--concurrency", "16", "--duration", f"{secs}s",
                     endpoint=ep, cred=(ID2, KEY2))
        r["T5 import/s"] = t5["throughput"]
        # Drain the pool, then measure the sustained create rate.
        loadgen("--action", "CreateKeyPair", "--concurrency", "4", "--requests", "80", "--duration", "60s",
                endpoint=ep, cred=(ID2, KEY2))
        t2 = loadgen("--action", "CreateKeyPair", "--concurrency", "4", "--duration", f"{secs}s",
                     endpoint=ep, cred=(ID2, KEY2))
        r["T2 create sustained/s"] = t2["throughput"]
        alone = loadgen("--action", "DescribeKeyPairs", "--concurrency", "16", "--duration", f"{secs}s", endpoint=ep)
        r["T4 describe p99 alone ms"] = alone["p99_ms"]
        creator = subprocess.Popen([LOADGEN, "--json", "--endpoint", ep, "--secret-id", ID2, "--secret-key", KEY2,
                                    "--action", "CreateKeyPair", "--concurrency", "8", "--duration", f"{secs + 6}s"],
                                   stdout=subprocess.PIPE, text=True)
        time.sleep(3)  # let the creates drain the pool and saturate generation
        loaded = loadgen("--action", "DescribeKeyPairs", "--concurrency", "16", "--duration", f"{secs}s", endpoint=ep)
        creator.wait()
        r["T4 describe p99 under creates ms"] = loaded["p99_ms"]
        r["T4 ratio"] = loaded["p99_ms"] / alone["p99_ms"]
        r["T4 describe/s under creates"] = loaded["throughput"]
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    # T5 again with commits not fsynced one by one (sqlite:PATH?synchronous=normal).
    work = tempfile.mkdtemp(prefix="keypair-perf-")
    proc, ep = start_server(work, "?synchronous=normal", seeded=False)
    try:
        t5n = loadgen("--action", "ImportKeyPair", "--concurrency", "16", "--duration", f"{secs}s",
                      endpoint=ep, cred=(ID2, KEY2))
        r["T5 import/s synchronous=normal"] = t5n["throughput"]
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    return r


def ensure_seeded():
    """The 1,000,000-key SQLite store, seeded once and cached in target/perf."""
    os.makedirs(PERF, exist_ok=True)
    if not os.path.exists(SEEDED):
        tmp = SEEDED + ".part"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(tmp + suffix):
                os.remove(tmp + suffix)
        sh(LOADGEN, "--seed-keys", "1000000", "--seed-accounts", "1000", "--store", f"sqlite:{tmp}")
        os.rename(tmp, SEEDED)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=15, help="length of each timed run")
    ap.add_argument("--python", help="a Python with `cryptography`, for the OpenSSL key rate")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "keypaird", "-p", "keypair-loadgen"], check=True, cwd=ROOT)
    ensure_seeded()
    rounds = []
    for i in range(args.rounds):
        r = one_round(args.python, args.seconds)
        rounds.append(r)
        print(f"round {i + 1}: {json.dumps(r)}", file=sys.stderr)
    with open(os.path.join(PERF, "targets.json"), "w") as f:
        json.dump(rounds, f, indent=1)
    print(f"| figure | median of {len(rounds)} | runs |\n|---|---:|---|")
    for k in rounds[0]:
        vals = [r[k] for r in rounds if k in r]
        print(f"| {k} | {statistics.median(vals):.2f} | {', '.join(f'{v:.2f}' for v in vals)} |")


if __name__ == "__main__":
    main()
