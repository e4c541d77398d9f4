#!/usr/bin/env python3
"""Load soak: mixed traffic at 256 connections against a release keypaird on SQLite.

Usage: python3 crates/keypair-loadgen/soak.py [--seconds 60] [--connections 256]

Passes when the run has no 5xx, no connection errors and no error codes other than the
documented rate limit (RequestLimitExceeded), and the server's resident memory at the end
is within 10% or 4 MiB, whichever is larger, of its level after the first 10 seconds
(half the run for runs under 30 s). The 4 MiB floor is for the SQLite page caches, which
fill as the database grows (4 connections x SQLite's default 2,000 KiB cache each): at
the 30 MB this server settles at, 10% is 3 MB, less than the caches may still take in a
20 s run. A leak of 100 bytes per request still shows: at ~7,000 requests/s it is 7 MB
in 10 s. Prints one JSON line with the figures; exits non-zero on failure.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REL = os.path.join(ROOT, "target", "release")
# Growth always allowed: the SQLite page caches still filling (see the module doc).
CACHE_FLOOR_KIB = 4 * 1024
ID, KEY = "AKIDsoak00000000000000000000000001", "soak-secret-key-00000000000000001"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=256)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "keypaird", "-p", "keypair-loadgen"], check=True, cwd=ROOT)
    # The database and log go with the run: a soak leaves nothing behind.
    with tempfile.TemporaryDirectory(prefix="keypair-soak-") as work:
        ok = soak(args, work)
    sys.exit(0 if ok else 1)


def soak(args, work):
    """Runs the load against a server in `work`; prints the figures; True if they pass."""
    config = os.path.join(work, "keypaird.toml")
    with open(config, "w") as f:
        f.write(f"""listen = "127.0.0.1:0"
store = "sqlite:{work}/soak.db"
[limits]
key_pairs_per_account = 100000000
cvm_requests_per_second = 2000
[keygen]
pool_size = 16
[[accounts]]
id = "1250000001"
credentials = [{{ secret_id = "{ID}", secret_key = "{KEY}" }}]
""")
    server = subprocess.Popen([os.path.join(REL, "keypaird"), "serve", "--config", config],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"), text=True)
    try:
        return measure(args, server)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def measure(args, server):
    """Drives the mixed load at `server`, sampling its RSS each second."""
    endpoint = re.match(r"listening on http://(\S+)", server.stdout.readline()).group(1)
    load = subprocess.Popen([os.path.join(REL, "keypair-loadgen"), "--json", "--endpoint", endpoint,
                             "--secret-id", ID, "--secret-key", KEY, "--action", "mixed",
                             "--concurrency", str(args.connections), "--duration", f"{args.seconds}s"],
                            stdout=subprocess.PIPE, text=True)
    early_at = 10 if args.seconds >= 30 else max(1, args.seconds // 2)
    samples, started = [], time.time()
    while load.poll() is None:
        time.sleep(1)  # sampling interval of the measurement, not synchronisation
        samples.append((round(time.time() - started), rss_kib(server.pid)))
    out, _ = load.communicate()
    rss_early = next(rss for t, rss in samples if t >= early_at)
    rss_end = rss_kib(server.pid)
    server.terminate()
    clean_exit = server.wait() == 0
    report = json.loads(out.strip().splitlines()[-1])
    codes = report["codes"]
    bad = {c: n for c, n in codes.items() if c not in ("OK", "RequestLimitExceeded")}
    growth = (rss_end - rss_early) / rss_early
    result = {
        "seconds": args.seconds, "connections": args.connections, "requests": report["requests"],
        "throughput": round(report["throughput"], 1), "p99_ms": report["p99_ms"], "codes": codes,
        "rss_kib_early": rss_early, "rss_kib_end": rss_end, "rss_growth": round(growth, 4),
        "clean_exit": clean_exit, "rss_kib_every_5s": [rss for t, rss in samples if t % 5 == 0],
    }
    print(json.dumps(result))
    allowed_kib = max(rss_early * 0.10, CACHE_FLOOR_KIB)
    ok = not bad and rss_end - rss_early <= allowed_kib and clean_exit and codes.get("OK", 0) > 0
    if not ok:
        print(f"soak FAILED: unexpected codes {bad}, RSS growth {growth:.1%} "
              f"({rss_end - rss_early} KiB, allowed {allowed_kib:.0f} KiB), clean exit {clean_exit}", file=sys.stderr)
    return ok


if __name__ == "__main__":
    main()
