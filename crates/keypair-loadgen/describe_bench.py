#!/usr/bin/env python3
"""DescribeKeyPairs against the machine's limit, on SQLite, on PostgreSQL, and on a fleet
of three keypaird sharing one PostgreSQL: side by side, round after round.

Usage: python3 crates/keypair-loadgen/describe_bench.py [--rounds 3] [--seconds 10]
                                                        [--before OTHER_KEYPAIRD]
                                                        [--mix realistic] [--no-fleet]

Seeds (once, cached) the 1,000,000-key SQLite store of targets.py, copies it into a
throwaway PostgreSQL cluster with `keypaird migrate`, then per round drives
DescribeKeyPairs Limit 20 at 64 connections against:
  - keypaird on the SQLite store, then the limit yardstick (`keypair-loadgen
    --serve-limit`, same request, a fixed body the size of the real answer);
  - keypaird on PostgreSQL, then the yardstick sized to its answer;
  - three keypaird on that PostgreSQL, three load generators at once (22 + 21 + 21
    connections), their throughputs summed.
With --mix realistic, each server also runs the realistic mix (`keypair-loadgen --mix
realistic`: 1,000 accounts with their own credentials, random offsets, 1 in 5 filtered,
1 in 10 a write) after a 30 s warm-up of the same mix (on SQLite, the read model loads each
account on its first read, 10-20 ms of store work each: the warm-up measures a server
that has seen every account once), then the yardstick answering that
mix's requests with a body the size of a Limit 20 answer; the single-account figure runs
beside it on the same server.
With --before, each round also runs another keypaird binary (an earlier build, say) on
SQLite and on PostgreSQL right after this tree's, with the same yardstick: a before and
after in one run, interleaved, so both see the same machine.
Prints the medians as a Markdown table; raw rounds go to target/perf/describe.json.
"""

import argparse
import re
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
MIX_ACCOUNTS, MIX_KEYS = 1000, 1000


def mix_credential(index):
    """keypair-loadgen's mix credential of seeded account `index` (mix.rs, `credential`)."""
    account = 1300000000 + index
    return str(account), f"AKIDmix{account}00000000000000", f"mix-secret-key-{account}-000000"


MIX_ACCOUNT_LIST = [mix_credential(i) for i in range(MIX_ACCOUNTS)]
# The read model holds the whole 1,000,000-key store and what the mix adds (its default
# of 1,000,000 would leave a few scopes out, each one read from SQLite now and then).
LIMITS = ("key_pairs_per_account = 100000000\ncvm_requests_per_second = 0\nlighthouse_requests_per_second = 0\n"
          "read_model_key_pairs = 2000000")


def describe(endpoint, secs, concurrency=64, cred=(ID, KEY)):
    return loadgen("--action", "DescribeKeyPairs", "--concurrency", str(concurrency), "--duration", f"{secs}s",
                   endpoint=endpoint, cred=cred)


def mix(endpoint, secs, concurrency=64):
    return loadgen("--mix", "realistic", "--mix-accounts", str(MIX_ACCOUNTS), "--mix-keys", str(MIX_KEYS),
                   "--concurrency", str(concurrency), "--duration", f"{secs}s", "--endpoint", endpoint)


def mix_yardstick(endpoint, secs, size):
    """The mix against `keypair-loadgen --serve-limit`: every request answered with a
    fixed body of `size` bytes once its signature checks."""
    server = subprocess.Popen([LOADGEN, "--serve-limit", str(size), "--mix-accounts", str(MIX_ACCOUNTS)],
                              stdout=subprocess.PIPE, text=True)
    try:
        limit_ep = re.match(r"listening on http://(\S+)", server.stdout.readline()).group(1)
        return mix(limit_ep, secs)
    finally:
        server.terminate()
        server.wait()


def mixed(ep, secs, label, r, size):
    mix(ep, 30)  # warm-up: the first read of each account loads its view
    m = mix(ep, secs)
    wrong = {k: v for kind in ("describe", "filtered", "write") for k, v in m[kind]["codes"].items() if k != "OK"}
    if wrong:
        raise SystemExit(f"{label} mix: unexpected codes {wrong}")
    limit = mix_yardstick(ep, secs, size)
    r[f"{label} mix req/s"], r[f"{label} mix limit req/s"] = m["throughput"], limit["throughput"]
    r[f"{label} mix ratio"] = m["throughput"] / limit["throughput"]
    r[f"{label} mix describe p99 ms"] = max(m["describe"]["p99_ms"], m["filtered"]["p99_ms"])
    r[f"{label} mix write p99 ms"] = m["write"]["p99_ms"]
    r[f"{label} mix writes/s"] = m["write"]["throughput"]


def side_by_side(store, secs, label, r, binary=KEYPAIRD, with_mix=False):
    # With the mix, the single account is the mix's account 1300000500, with its credential.
    accounts = MIX_ACCOUNT_LIST if with_mix else ACCOUNTS
    cred = MIX_ACCOUNT_LIST[500][1:] if with_mix else (ID, KEY)
    srv = pgfleet.Keypaird(binary, store, accounts, LIMITS, name=label)
    try:
        ep = f"{srv.host}:{srv.port}"
        targets.wait_pool_full(ep, size=16)  # key generation at start-up would share the cores
        d = describe(ep, secs, cred=cred)
        limit = yardstick(ep, secs, cred=cred)
        if with_mix:
            mixed(ep, secs, label, r, limit["bytes"])
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
    ap.add_argument("--mix", choices=["realistic"], help="also run the realistic mix on each server")
    ap.add_argument("--no-fleet", action="store_true", help="leave out the fleet of three")
    args = ap.parse_args()
    with_mix = args.mix is not None
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
            side_by_side(f"sqlite:{copy}", args.seconds, "sqlite", r, with_mix=with_mix)
            if args.before:
                shutil.copyfile(SEEDED, copy)
                side_by_side(f"sqlite:{copy}", args.seconds, "before sqlite", r, binary=args.before)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        side_by_side(url, args.seconds, "postgres", r, with_mix=with_mix)
        if args.before:
            side_by_side(url, args.seconds, "before postgres", r, binary=args.before)
        if not args.no_fleet:
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
