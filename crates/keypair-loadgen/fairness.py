#!/usr/bin/env python3
"""Key-generation fairness, measured by the load generator: account B's CreateKeyPair
latency alone, and again while account A sends creates that the store refuses (a name it
already has) at A's documented rate limit. Passes when B's p95 with A stays within 2x of
B's p95 alone. Medians over --rounds rounds; prints one JSON line.

Usage: python3 crates/keypair-loadgen/fairness.py [--rounds 3] [--requests 40]

Runs a release keypaird with the default limits (CVM CreateKeyPair: 10 requests per
second per account) and the default key pool, on a SQLite store in a temporary directory.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REL = os.path.join(ROOT, "target", "release")
A = ("1250000001", "AKIDfairA00000000000000000000000001", "fair-secret-a-0000000000000000001")
B = ("1250000002", "AKIDfairB00000000000000000000000002", "fair-secret-b-0000000000000000002")
CREATE_RATE = 10  # the documented CVM CreateKeyPair rate per account


def loadgen(endpoint, account, *extra):
    cmd = [os.path.join(REL, "keypair-loadgen"), "--json", "--endpoint", endpoint,
           "--secret-id", account[1], "--secret-key", account[2], "--action", "CreateKeyPair",
           "--concurrency", "1", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def result(proc):
    out, _ = proc.communicate(timeout=300)
    if proc.returncode != 0:
        sys.exit(f"keypair-loadgen failed: {out}")
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=40)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "keypaird", "-p", "keypair-loadgen"],
                   check=True, cwd=ROOT)
    # The database and log go with the run: nothing is left behind.
    with tempfile.TemporaryDirectory(prefix="keypair-fairness-") as work:
        alone, shared, a_codes = measure(args, work)
    p95_alone = statistics.median(r["p95_ms"] for r in alone)
    p95_shared = statistics.median(r["p95_ms"] for r in shared)
    ratio = p95_shared / p95_alone
    ok = all(set(r["codes"]) == {"OK"} for r in alone + shared) and ratio <= 2.0
    print(json.dumps({"b_p95_ms_alone": p95_alone, "b_p95_ms_with_a": p95_shared, "ratio": ratio,
                      "b_p50_ms_alone": statistics.median(r["p50_ms"] for r in alone),
                      "b_p50_ms_with_a": statistics.median(r["p50_ms"] for r in shared),
                      "a_codes_last_round": a_codes, "rounds": args.rounds, "pass": ok}))
    sys.exit(0 if ok else 1)


def measure(args, work):
    """Starts a server in `work` and runs the rounds; returns B alone, B shared, A's codes."""
    config = os.path.join(work, "keypaird.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:0"\nstore = "sqlite:{work}/keys.db"\n')
        for acct in (A, B):
            f.write(f'[[accounts]]\nid = "{acct[0]}"\n'
                    f'credentials = [{{ secret_id = "{acct[1]}", secret_key = "{acct[2]}" }}]\n')
    server = subprocess.Popen([os.path.join(REL, "keypaird"), "serve", "--config", config],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"),
                              text=True)
    try:
        endpoint = re.match(r"listening on http://(\S+)", server.stdout.readline()).group(1)
        # A holds the name its creates will repeat.
        result(loadgen(endpoint, A, "--key-name", "taken", "--requests", "1"))
        b_paced = ["--rate", str(CREATE_RATE // 2), "--requests", str(args.requests)]
        seconds = args.requests / (CREATE_RATE // 2) + 2
        alone, shared, a_codes = [], [], {}
        for _ in range(args.rounds):
            alone.append(result(loadgen(endpoint, B, *b_paced)))
            a = loadgen(endpoint, A, "--key-name", "taken", "--rate", str(CREATE_RATE),
                        "--duration", f"{seconds:.0f}s")
            shared.append(result(loadgen(endpoint, B, *b_paced)))
            a_codes = result(a)["codes"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return alone, shared, a_codes


if __name__ == "__main__":
    main()
