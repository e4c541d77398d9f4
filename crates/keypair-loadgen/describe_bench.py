#!/usr/bin/env python3
"""DescribeKeyPairs against the machine's limit, on SQLite, on PostgreSQL, and on a fleet
of three keypaird sharing one PostgreSQL: side by side, round after round.

Usage: python3 crates/keypair-loadgen/describe_bench.py [--rounds 3] [--seconds 10]
                                                        [--before OTHER_KEYPAIRD]

Seeds (once, cached) the 1,000,000-key SQLite store of targets.py, copies it into a
throwaway PostgreSQL cluster with `keypaird migrate`, then per round drives
DescribeKeyPairs Limit 20 at 64 connections against:
  - keypaird on the SQLite store, then the limit yardstick (`keypair-loadgen
    --serve-limit`, same request, a fixed body the size of the real answer);
  - keypaird on PostgreSQL, then the yardstick sized to its answer;
  - three keypaird on that PostgreSQL, three load generators at once (22 + 21 + 21
    connections), their throughputs summed.
With --before, each round also runs another keypaird binary (an earlier build, say) on
SQLite and on PostgreSQL right after this tree's, with the same yardstick: a before and
after in one run, interleaved, so both see the same machine.
Prints the medians as a Markdown table; raw rounds go to target/perf/describe.json.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "keypaird", "tests", "fleet"))
import pgfleet  # noqa: E402
import targets  # noqa: E402
from targets import ID, KEY, KEYPAIRD, LOADGEN, PERF, SEEDED, loadgen, yardstick  # noqa: E402

ACCOUNTS = [(targets.DESCRIBE_ACCOUNT, ID, KEY)]
LIMITS = "key_pairs_per_account = 100000000\ncvm_requests_per_second = 0\nlighthouse_requests_per_second = 0"


def describe(endpoint, secs, concurrency=64):
    return loadgen("--action", "DescribeKeyPairs", "--concurrency", str(concurrency), "--duration", f"{secs}s",
                   endpoint=endpoint)


def side_by_side(store, secs, label, r, binary=KEYPAIRD):
    srv = pgfleet.Keypaird(binary, store, ACCOUNTS, LIMITS, name=label)
    try:
        ep = f"{srv.host}:{srv.port}"
        targets.wait_pool_full(ep, size=16)  # key generation at start-up would share the cores
        d = describe(ep, secs)
        limit = yardstick(ep, secs)
    finally:
        srv.stop()
    r[f"{label} describe/s"], r[f"{label} p99 ms"] = d["throughput"], d["p99_ms"]
    r[f"{label} limit/s"], r[f"{label} answer bytes"] = limit["throughput"], limit["bytes"]
    r[f"{label} ratio"] = d["throughput"] / limit["throughput"]
    if set(d["codes"]) != {"OK"}:
        raise SystemExit(f"{label}: unexpected codes {d['codes']}")


def fleet(url, secs, r):
    servers = [pgfleet.Keypaird(KEYPAIRD, url, ACCOUNTS, LIMITS, name=f"fleet{i}") for i in range(3)]
    try:
        for s in servers:
            targets.wait_pool_full(f"{s.host}:{s.port}", size=16)
        procs = [subprocess.Popen([LOADGEN, "--json", "--endpoint", f"{s.host}:{s.port}", "--secret-id", ID,
                                   "--secret-key", KEY, "--action", "DescribeKeyPairs", "--concurrency", str(c),
                                   "--duration", f"{secs}s"], stdout=subprocess.PIPE, text=True)
                 for s, c in zip(servers, (22, 21, 21))]
        outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    finally:
        for s in servers:
            s.stop()
    r["fleet of 3 describe/s"] = sum(o["throughput"] for o in outs)
    r["fleet / one server"] = r["fleet of 3 describe/s"] / r["postgres describe/s"]
    r["fleet p99 ms (worst server)"] = max(o["p99_ms"] for o in outs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--before", help="another keypaird binary, measured in each round beside this tree's")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "keypaird", "-p", "keypair-loadgen"],
                   check=True, cwd=targets.ROOT)
    targets.ensure_seeded()
    base = pgfleet.workdir("keypair-describe-bench-")
    db = pgfleet.Cluster(base, "db").init_primary()
    url = f"postgres://postgres@127.0.0.1:{db.port}/postgres"
    subprocess.run([KEYPAIRD, "migrate", "--from", f"sqlite:{SEEDED}", "--to", url], check=True,
                   stdout=subprocess.DEVNULL)
    db.sql("VACUUM ANALYZE")
    rounds = []
    for i in range(args.rounds):
        r = {}
        work = tempfile.mkdtemp(prefix="keypair-describe-")
        try:
            copy = os.path.join(work, "perf.db")
            shutil.copyfile(SEEDED, copy)
            side_by_side(f"sqlite:{copy}", args.seconds, "sqlite", r)
            if args.before:
                shutil.copyfile(SEEDED, copy)
                side_by_side(f"sqlite:{copy}", args.seconds, "before sqlite", r, binary=args.before)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        side_by_side(url, args.seconds, "postgres", r)
        if args.before:
            side_by_side(url, args.seconds, "before postgres", r, binary=args.before)
        fleet(url, args.seconds, r)
        rounds.append(r)
        print(f"round {i + 1}: {json.dumps(r)}", file=sys.stderr, flush=True)
    with open(os.path.join(PERF, "describe.json"), "w") as f:
        json.dump(rounds, f, indent=1)
    print(f"| figure | median of {len(rounds)} | runs |\n|---|---:|---|")
    for k in rounds[0]:
        vals = [r[k] for r in rounds]
        print(f"| {k} | {statistics.median(vals):.3f} | {', '.join(f'{v:.3f}' for v in vals)} |")


if __name__ == "__main__":
    main()
