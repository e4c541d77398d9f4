#!/usr/bin/env python3
"""Migration and export figures at 1,000,000 key pairs, side by side in one run.

Usage: python3 crates/keypair-loadgen/migrate_bench.py [--keys 1000000] [--small 100000]

1. Seeds a SQLite store of --keys key pairs over 1,000 accounts (keypair-loadgen
   --seed-keys, the performance seeding) and one of --small.
2. Starts a throwaway PostgreSQL cluster (as the postgres user, socket only, durable
   defaults: fsync and synchronous_commit on) and migrates SQLite -> PostgreSQL, then
   PostgreSQL -> a new SQLite file (`keypaird migrate`, which ends by verifying both
   sides), timing each.
3. Exports the small and the large store to /dev/null, sampling peak resident memory
   (VmHWM) of each export.

Prints one JSON object with the rates (key pairs per second over the whole command, and
the load phase's own rate before verification) and the memory ratio.
Targets: >= 50,000 key pairs/s each way; export memory at --keys <= 2x at --small.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REL = os.path.join(ROOT, "target", "release")
PORT = 55490


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def seed(path, keys):
    out = subprocess.run([os.path.join(REL, "keypair-loadgen"), "--seed-keys", str(keys), "--seed-accounts", "1000",
                          "--store", f"sqlite:{path}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.exit(f"seeding {keys} key pairs failed: {out.stderr}")


def timed_migrate(source, target):
    """Seconds for the whole command (load and verification), and the load's own rate
    as migrate reports it before verifying."""
    started = time.time()
    out = subprocess.run([os.path.join(REL, "keypaird"), "migrate", "--from", source, "--to", target],
                         capture_output=True, text=True)
    took = time.time() - started
    if out.returncode != 0 or "verified" not in out.stderr:
        sys.exit(f"migrate {source} -> {target} failed: {out.stderr}")
    load_rate = int(re.search(r"key pairs in [\d.]+ s \((\d+)/s\)", out.stderr).group(1))
    return took, load_rate


def peak_rss_kib(cmd):
    """Runs `cmd`, sampling VmHWM (peak resident set) until it exits."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
                if m:
                    peak = max(peak, int(m.group(1)))
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    if proc.returncode != 0:
        sys.exit(f"{cmd} failed")
    return peak


def start_postgres(work):
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        sys.exit("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    bin_dir = bins[-1]
    base = os.path.join(work, "pg")
    os.makedirs(base)
    shutil.chown(base, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    run(as_pg + [f"{bin_dir}/initdb", "-D", f"{base}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C"], stdout=subprocess.DEVNULL)
    server = subprocess.Popen(as_pg + [f"{bin_dir}/postgres", "-D", f"{base}/data", "-k", base, "-p", str(PORT),
                                       "-c", "listen_addresses="],
                              stdout=subprocess.DEVNULL, stderr=open(f"{work}/pg.log", "w"))
    for _ in range(300):
        if subprocess.run([f"{bin_dir}/pg_isready", "-h", base, "-p", str(PORT)],
                          stdout=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(0.1)
    run([f"{bin_dir}/psql", "-h", base, "-p", str(PORT), "-U", "postgres", "-c", "CREATE DATABASE bench"],
        stdout=subprocess.DEVNULL)
    host = base.replace("/", "%2F")
    return server, f"postgres://postgres@{host}:{PORT}/bench"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=100_000)
    args = ap.parse_args()
    run(["cargo", "build", "--release", "-q", "-p", "keypaird", "-p", "keypair-loadgen"], cwd=ROOT)
    # The stores (about 1.5 GB at 1,000,000 key pairs) go with the run, even a failed one.
    with tempfile.TemporaryDirectory(prefix="keypair-migrate-bench-") as work:
        os.chmod(work, 0o755)
        result = measure(args, work)
    print(json.dumps(result))


def measure(args, work):
    """Seeds, migrates both ways and exports in `work`; returns the figures."""
    big, small, back = (os.path.join(work, n) for n in ("big.db", "small.db", "back.db"))
    started = time.time()
    seed(big, args.keys)
    seed(small, args.small)
    seeded = time.time() - started
    server, pg = start_postgres(work)
    try:
        to_pg, to_pg_load = timed_migrate(f"sqlite:{big}", pg)
        from_pg, from_pg_load = timed_migrate(pg, f"sqlite:{back}")
    finally:
        server.terminate()
        server.wait(timeout=60)
    keypaird = os.path.join(REL, "keypaird")
    rss_small = peak_rss_kib([keypaird, "export", "--store", f"sqlite:{small}", "--out", "/dev/null"])
    rss_big = peak_rss_kib([keypaird, "export", "--store", f"sqlite:{big}", "--out", "/dev/null"])
    result = {
        "keys": args.keys,
        "seconds_to_seed": round(seeded, 1),
        "sqlite_to_postgres_per_s": round(args.keys / to_pg),
        "postgres_to_sqlite_per_s": round(args.keys / from_pg),
        "sqlite_to_postgres_load_per_s": to_pg_load,
        "postgres_to_sqlite_load_per_s": from_pg_load,
        "sqlite_to_postgres_s": round(to_pg, 1),
        "postgres_to_sqlite_s": round(from_pg, 1),
        "export_peak_rss_mb_small": round(rss_small / 1024, 1),
        "export_peak_rss_mb_big": round(rss_big / 1024, 1),
        "export_rss_ratio": round(rss_big / rss_small, 2),
        "small": args.small,
    }
    result["pass"] = (result["sqlite_to_postgres_per_s"] >= 50_000 and result["postgres_to_sqlite_per_s"] >= 50_000
                      and result["export_rss_ratio"] <= 2.0)
    return result


if __name__ == "__main__":
    main()
