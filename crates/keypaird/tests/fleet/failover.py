#!/usr/bin/env python3
"""Failover: lose the PostgreSQL primary under load, promote the synchronous standby,
and check that nothing acknowledged is lost.

Each round:
1. starts a primary and a synchronous standby (streaming replication) as throwaway
   clusters, and two keypaird on the multi-host URL
   `postgres://postgres@127.0.0.1:P,127.0.0.1:S/postgres?target_session_attrs=read-write`;
2. runs a storm of CreateKeyPair and ImportKeyPair (with tags) through both servers,
   SIGKILLs the primary after 3 s and promotes the standby 1 s later;
3. checks that every key pair whose create or import was acknowledged is on the new
   primary with its tags;
4. checks that every request got a success or the documented retryable internal error
   (`InternalServerError`), within the client's 15 s timeout, and never a reset;
5. checks that both servers answer successfully again within 10 s of the promotion.

Usage: python3 crates/keypaird/tests/fleet/failover.py [--rounds 5] [--binary PATH]
CI runs one round; the full variant is five. Prints one JSON line per round.
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import pgfleet  # noqa: E402
from pgfleet import call, code, fail  # noqa: E402

ACCOUNT = ("1250000001", "AKIDfailover000000000000000000000001", "failover-secret-000000000000000000001")
RETRYABLE = {"InternalServerError"}
WORKERS = 12


class Storm:
    """Workers creating and importing key pairs through the servers until stopped."""

    def __init__(self, servers):
        self.servers = servers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}  # KeyId -> (name, tag value)
        self.codes = {}
        self.failures = []  # transport failures: resets, timeouts
        self.successes = []  # (time, server name)

    def worker(self, w):
        i = 0
        while not self.stop.is_set():
            i += 1
            srv = self.servers[(w + i) % len(self.servers)]
            name = f"w{w}_{i}"
            tags = [{"Key": "owner", "Value": name}]
            if i % 2:
                params = {"KeyName": name, "ProjectId": 0, "TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]}
                action = "CreateKeyPair"
            else:
                params = {"KeyName": name, "ProjectId": 0, "PublicKey": pgfleet.synthetic_key(w * 1_000_000 + i),
                          "TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]}
                action = "ImportKeyPair"
            try:
                resp = call(srv, ACCOUNT, action, params)
            except Exception as e:  # a reset or a timeout is itself the finding
                with self.lock:
                    self.failures.append(f"{srv.name} {action}: {type(e).__name__}: {e}")
                continue
            c = code(resp)
            with self.lock:
                self.codes[c] = self.codes.get(c, 0) + 1
                if c == "OK":
                    key_id = resp["KeyPair"]["KeyId"] if action == "CreateKeyPair" else resp["KeyId"]
                    self.acked[key_id] = (name, name)
                    self.successes.append((time.time(), srv.name))

    def run(self):
        self.threads = [threading.Thread(target=self.worker, args=(w,)) for w in range(WORKERS)]
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def one_round(binary, n):
    base = pgfleet.workdir("keypair-failover-")
    primary = pgfleet.Cluster(base, "primary").init_primary(sync_standby="standby1")
    standby = pgfleet.Cluster(base, "standby").init_standby(primary, "standby1")
    primary.wait_sync_standby("standby1")
    url = (f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/postgres"
           "?target_session_attrs=read-write")
    limits = "cvm_requests_per_second = 0\nkey_pairs_per_account = 1000000"
    servers = [pgfleet.Keypaird(binary, url, [ACCOUNT], limits, name=f"server{i}") for i in (1, 2)]
    storm = Storm(servers)
    storm.run()
    time.sleep(3)  # load before the loss: the storm's duration, not synchronisation
    before = len(storm.acked)
    primary.kill()
    killed_at = time.time()
    time.sleep(1)  # the operator's (or pg_auto_failover's) reaction time, by design
    standby.promote()
    promoted_at = time.time()
    deadline = promoted_at + 10
    while time.time() < deadline:
        with storm.lock:
            back = {s for t, s in storm.successes if t > promoted_at}
        if len(back) == len(servers):
            break
        time.sleep(0.05)  # polling a condition with a deadline
    time.sleep(2)  # load after recovery: the storm's duration
    storm.join()
    with storm.lock:
        back_after = {s: min(t for t, x in storm.successes if x == s and t > promoted_at) - promoted_at
                      for s in {x for _, x in storm.successes}
                      if any(t > promoted_at and x == s for t, x in storm.successes)}
    rows = standby.sql("SELECT k.key_id, k.name, t.tag_value FROM key_pairs k "
                       "LEFT JOIN key_pair_tags t ON t.key_id = k.key_id AND t.tag_key = 'owner'")
    present = {r[0]: (r[1], r[2]) for r in rows}
    lost = {k: v for k, v in storm.acked.items() if present.get(k) != v}
    bad_codes = {c: k for c, k in storm.codes.items() if c != "OK" and c not in RETRYABLE}
    result = {
        "round": n, "acknowledged": len(storm.acked), "acknowledged_before_kill": before,
        "codes": storm.codes, "transport_failures": len(storm.failures),
        "on_new_primary": len(present), "lost": len(lost),
        "seconds_to_serve_after_promotion": {s: round(v, 2) for s, v in sorted(back_after.items())},
        "kill_to_promote_s": round(promoted_at - killed_at, 2),
    }
    print(json.dumps(result), flush=True)
    for s in servers:
        s.stop()
    standby.kill()
    if lost:
        fail(f"{len(lost)} acknowledged key pairs missing or changed on the new primary: {list(lost.items())[:5]}")
    if bad_codes:
        fail(f"codes other than success or the retryable internal error: {bad_codes}")
    if storm.failures:
        fail(f"transport failures (reset or timeout): {storm.failures[:5]}")
    if len(back_after) != len(servers) or max(back_after.values()) > 10:
        fail(f"not every server served within 10 s of the promotion: {back_after}")
    if before == 0 or len(storm.acked) == before:
        fail("the storm made no progress before the kill or after the promotion")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or pgfleet.build_keypaird()
    for n in range(1, args.rounds + 1):
        one_round(binary, n)
    print(f"failover: {args.rounds} round(s) passed", flush=True)


if __name__ == "__main__":
    main()
