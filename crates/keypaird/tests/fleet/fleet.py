#!/usr/bin/env python3
"""A fleet of three keypaird on one PostgreSQL: the promises that must hold across
servers, not just within one.

1. **Replay.** A legacy-signed request accepted by one server, sent again unchanged to
   each of the other two, is refused (`AuthFailure.SignatureFailure`).
2. **Quota.** 60 concurrent creates spread over the three servers, into an account whose
   quota has room for 5, give exactly 5 winners; every other answer is the quota code.
3. **Rate.** One account driven at 3x its Lighthouse DescribeKeyPairs rate for 10 s,
   spread over the three servers, gets at most 1.2x the rate accepted (the shared
   one-second windows allow at most rate x (T + 1), 1.1x over 10 s).

Usage: python3 crates/keypaird/tests/fleet/fleet.py [--binary PATH]
Prints one JSON line with the figures; exits non-zero on the first failed check.
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import pgfleet  # noqa: E402
from pgfleet import LIGHTHOUSE, call, code, fail  # noqa: E402

REPLAY = ("1250000001", "AKIDfleetreplay00000000000000000001", "fleet-replay-secret-00000000000000001")
QUOTA = ("1250000002", "AKIDfleetquota000000000000000000002", "fleet-quota-secret-000000000000000002")
RATE = ("1250000003", "AKIDfleetrate0000000000000000000003", "fleet-rate-secret-0000000000000000003")
LH_RATE = 20
DRIVE_SECONDS = 10


def replay(servers):
    body = pgfleet.legacy_body(REPLAY, {"Action": "DescribeKeyPairs", "Version": "2017-03-12", "Region": "ap-guangzhou"},
                               "127.0.0.1", nonce=123456789)
    first = code(pgfleet.post_form(servers[0], body))
    if first != "OK":
        fail(f"the first use of a legacy request was refused: {first}")
    again = [code(pgfleet.post_form(s, body)) for s in servers[1:]]
    if again != ["AuthFailure.SignatureFailure"] * 2:
        fail(f"a replay to the other servers was not refused: {again}")
    return {"first": first, "replays": again}


def quota(servers):
    results, lock = [], threading.Lock()

    def create(i):
        resp = call(servers[i % 3], QUOTA, "CreateKeyPair", {"KeyName": f"q{i}", "ProjectId": 0})
        with lock:
            results.append(code(resp))
    threads = [threading.Thread(target=create, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = results.count("OK")
    others = {c for c in results if c != "OK"}
    if winners != 5 or others != {"InvalidKeyPair.LimitExceeded"}:
        fail(f"60 creates into room for 5: {winners} winners, other codes {others}")
    return {"creates": len(results), "winners": winners, "other_codes": sorted(others)}


def rate(servers):
    """Paced calls at 3x the rate for DRIVE_SECONDS, round-robin over the servers."""
    total = 3 * LH_RATE * DRIVE_SECONDS
    interval = 1.0 / (3 * LH_RATE)
    codes, lock = {}, threading.Lock()

    def send(i):
        resp = call(servers[i % 3], RATE, "DescribeKeyPairs", {}, version=LIGHTHOUSE)
        with lock:
            codes[code(resp)] = codes.get(code(resp), 0) + 1
    start = time.time()
    threads = []
    for i in range(total):
        delay = start + i * interval - time.time()
        if delay > 0:
            time.sleep(delay)  # pacing the offered load, not synchronisation
        t = threading.Thread(target=send, args=(i,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    seconds = time.time() - start
    accepted = codes.get("OK", 0)
    ratio = accepted / (LH_RATE * DRIVE_SECONDS)
    if set(codes) - {"OK", "RequestLimitExceeded"} or ratio > 1.2:
        fail(f"at 3x the rate over the fleet: {codes}, {ratio:.2f}x the limit accepted")
    return {"offered": total, "seconds": round(seconds, 1), "codes": codes, "accepted_ratio": round(ratio, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or pgfleet.build_keypaird()
    base = pgfleet.workdir("keypair-fleet-")
    db = pgfleet.Cluster(base, "db").init_primary()
    url = f"postgres://postgres@127.0.0.1:{db.port}/postgres"
    limits = f"key_pairs_per_account = 5\ncvm_requests_per_second = 0\nlighthouse_requests_per_second = {LH_RATE}"
    servers = [pgfleet.Keypaird(binary, url, [REPLAY, QUOTA, RATE], limits, name=f"server{i}") for i in (1, 2, 3)]
    result = {"replay": replay(servers), "quota": quota(servers), "rate": rate(servers)}
    print(json.dumps(result), flush=True)
    print("fleet: all checks passed", flush=True)


if __name__ == "__main__":
    main()
