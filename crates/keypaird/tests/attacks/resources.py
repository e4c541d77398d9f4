#!/usr/bin/env python3
"""Resource-exhaustion attacks against a release keypaird on loopback (issue: bounded
resources). Each attack is bounded in count and time, checks the documented bound, and
prints one line with its figures; the script exits non-zero on the first failure.

Usage: python3 crates/keypaird/tests/attacks/resources.py [--binary target/release/keypaird]

Attacker connections come from other loopback addresses (127.0.0.2 and up) than the
well-behaved client (127.0.0.1), as they would from other hosts. Standard library only.
"""

import argparse
import http.client
import json
import os
import re
import resource
import selectors
import socket
import sys
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fleet"))
import pgfleet  # noqa: E402  (the one TC3 signer of the Python test scripts)
ACCOUNTS = {
    "A": ("1250000001", "AKIDattackA0000000000000000000000001", "attack-secret-a-000000000000000001"),
    "B": ("1250000002", "AKIDattackB0000000000000000000000002", "attack-secret-b-000000000000000002"),
}
CVM = "2017-03-12"
# The documented bounds (docs/security.md, "Resource exhaustion").
BODY_BASE_TIMEOUT = 5.0
RSS_LIMIT_KIB = 128 * 1024
LOG_LINE_MAX = 1024
DESCRIBE_MAX_BYTES = 8_500_000


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


class Server(pgfleet.Keypaird):
    """A keypaird on 127.0.0.1 with two accounts, a SQLite store and a log file."""

    def __init__(self, binary, limits):
        super().__init__(binary, None, list(ACCOUNTS.values()), limits, name="attacks", pool_size=8)
        self.log_path = self.log

    def rss(self):
        return rss_kib(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def metric(self, name, reason):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        m = re.search(rf'^{name}{{reason="{reason}"}} (\d+)$', text, re.M)
        return int(m.group(1)) if m else 0


def tc3_headers(account, action, body, host, version=CVM, service="cvm"):
    _, secret_id, secret_key = ACCOUNTS[account]
    return pgfleet.tc3_headers(secret_id, secret_key, action, body, host, version, service)


def call(srv, account, action, params, source="127.0.0.1", timeout=30):
    """A TC3-signed POST; returns (Response dict, seconds, raw bytes)."""
    body = json.dumps(params).encode()
    host = f"{srv.host}:{srv.port}"
    started = time.time()
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout, source_address=(source, 0))
    c.request("POST", "/", body=body, headers=tc3_headers(account, action, body, host))
    raw = c.getresponse().read()
    c.close()
    return json.loads(raw)["Response"], time.time() - started, raw


def code(resp):
    return resp.get("Error", {}).get("Code", "OK")


def legacy_form(account, params, host):
    params = dict(params)
    nonce = params.pop("Nonce")
    return pgfleet.legacy_body(ACCOUNTS[account], params, host, nonce)


def open_many(srv, count, sources, head, payload=b"", deadline_s=30.0):
    """Opens `count` connections spread over `sources`, each sending `head` and then as
    much of `payload` as the server takes, without blocking on any one of them."""
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(count):
        s = socket.socket()
        s.bind((sources[i % len(sources)], 0))
        s.connect((srv.host, srv.port))
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, [head + payload, 0])
    end = time.time() + deadline_s
    while sel.get_map() and time.time() < end:
        for key, _ in sel.select(timeout=0.5):
            data, sent = key.data
            try:
                n = key.fileobj.send(data[sent:sent + 65536])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                sel.unregister(key.fileobj)
                continue
            key.data[1] = sent + n
            if key.data[1] >= len(data):
                sel.unregister(key.fileobj)
    return socks


def close_all(socks):
    for s in socks:
        s.close()


def wait_for(predicate, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def stalled_bodies(srv):
    head = (f"POST / HTTP/1.1\r\nHost: {srv.host}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n").encode()
    socks = open_many(srv, 1100, ["127.0.0.2", "127.0.0.3", "127.0.0.4"], head)
    resp, took, _ = call(srv, "B", "DescribeKeyPairs", {})
    if code(resp) != "OK" or took > BODY_BASE_TIMEOUT + 1:
        fail(f"stalled bodies: a signed describe got {code(resp)} in {took:.2f} s")
    timed_out = wait_for(lambda: srv.metric("keypair_transport_refusals_total", "body_timeout") >= 1100,
                         BODY_BASE_TIMEOUT + 15)
    answer = b""
    socks[0].setblocking(True)
    socks[0].settimeout(5)
    try:
        answer = socks[0].recv(4096)
    except OSError:
        pass
    close_all(socks)
    if not timed_out or b'"Code":"InvalidRequest"' not in answer:
        fail(f"stalled bodies: not refused with their own code ({answer[:200]!r})")
    print(f"stalled bodies: 1,100 open; another client's describe OK in {took * 1000:.0f} ms; "
          f"each stalled body refused with InvalidRequest (reason body_timeout)", flush=True)


def partial_bodies(srv):
    before = srv.rss()
    size = 1 << 20
    head = (f"POST / HTTP/1.1\r\nHost: {srv.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    sources = [f"127.0.0.{i}" for i in range(5, 9)]
    socks = open_many(srv, 1024, sources, head, b"x" * (size - 1), deadline_s=40)
    peak = srv.rss()
    resp, took, _ = call(srv, "B", "DescribeKeyPairs", {})
    refused = srv.metric("keypair_transport_refusals_total", "body_budget")
    close_all(socks)
    if peak > RSS_LIMIT_KIB or code(resp) != "OK":
        fail(f"partial bodies: RSS {peak} KiB (bound {RSS_LIMIT_KIB}), describe {code(resp)}")
    print(f"partial 1 MiB bodies: 1,024 open; RSS {before // 1024} -> {peak // 1024} MB "
          f"(bound 128 MB); {refused} refused at the body budget; describe OK in {took * 1000:.0f} ms",
          flush=True)


def nonce_flood(srv):
    host = f"{srv.host}:{srv.port}"
    before = srv.rss()
    codes = {}
    for _ in range(300):
        params = {"Action": "DescribeKeyPairs", "Version": CVM, "Region": "ap-guangzhou",
                  "Nonce": "9" * 900_000}
        body = legacy_form("A", params, host)
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        c.request("POST", "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        got = code(json.loads(c.getresponse().read())["Response"])
        codes[got] = codes.get(got, 0) + 1
        c.close()
    after = srv.rss()
    if after - before > 10 * 1024 or set(codes) != {"InvalidParameter"}:
        fail(f"nonce flood: RSS {before} -> {after} KiB, codes {codes}")
    print(f"legacy nonces: 300 x 900,000 digits refused ({codes}); RSS {before // 1024} -> {after // 1024} MB",
          flush=True)


def log_flood(srv):
    host = f"{srv.host}:{srv.port}"
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    form = urllib.parse.urlencode({"Action": "A" * 1_000_000, "Version": CVM, "SecretId": "AKIDnobody",
                                   "Nonce": "1", "Timestamp": str(int(time.time())), "Signature": "x"})
    c.request("POST", "/", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    first = code(json.loads(c.getresponse().read())["Response"])
    c.close()
    statuses = []
    for size in (300_000, 30_000):
        headers = tc3_headers("A", "X" * size, b"{}", host)
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        try:
            c.request("POST", "/", body=b"{}", headers=headers)
            statuses.append(c.getresponse().status)
        except (ConnectionError, http.client.HTTPException):
            statuses.append("closed")
        c.close()
    resp, _, _ = call(srv, "A", "DescribeKeyPairs", {})
    with open(srv.log_path, "rb") as f:
        longest = max(len(line) for line in f)
    if longest > LOG_LINE_MAX or code(resp) != "OK":
        fail(f"log flood: longest log line {longest} bytes (bound {LOG_LINE_MAX})")
    print(f"log flood: 1 MB Action -> {first}; 300 KB / 30 KB X-TC-Action -> HTTP {statuses}; "
          f"longest log line {longest} bytes (bound {LOG_LINE_MAX})", flush=True)


def synthetic_key(seed, comment):
    return pgfleet.synthetic_key(seed, comment)


def stored_sizes(srv):
    huge = call(srv, "A", "ImportKeyPair", {"KeyName": "huge", "ProjectId": 0, "PublicKey": synthetic_key(1, "c" * 1_000_000)})[0]
    nul = call(srv, "A", "ImportKeyPair", {"KeyName": "nul", "ProjectId": 0, "PublicKey": synthetic_key(2, "a\u0000\u001b")})[0]
    nbsp = call(srv, "A", "ImportKeyPair", {"KeyName": "nbsp", "ProjectId": 0, "PublicKey": synthetic_key(3, "").replace(" ", "\u00a0")})[0]
    for name, r in [("1 MB comment", huge), ("NUL/ESC comment", nul), ("NBSP", nbsp)]:
        if code(r) != "InvalidPublicKey.Malformed":
            fail(f"stored sizes: {name} got {code(r)}")
    # 100 key pairs at every bound: the longest comment, 50 tags of the longest key and
    # value (4-byte characters, which also count as one: CJK Extension B ideographs,
    # which the tag rules allow), 100 instances each.
    comment = "\U00010348" * 256
    tags = [{"Key": f"{i:02d}" + "\U00020000" * 125, "Value": "\U00020000" * 255} for i in range(50)]
    keys = []
    for i in range(100):
        r = call(srv, "A", "ImportKeyPair", {"KeyName": f"k{i}", "ProjectId": 0, "PublicKey": synthetic_key(100 + i, comment),
                                             "TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]})[0]
        if code(r) != "OK":
            fail(f"stored sizes: import at the bounds got {r}")
        keys.append(r["KeyId"])
    instances = [f"ins-{i:08d}" for i in range(100)]
    r = call(srv, "A", "AssociateInstancesKeyPairs", {"KeyIds": keys, "InstanceIds": instances})[0]
    over = call(srv, "A", "AssociateInstancesKeyPairs", {"KeyIds": keys[:1], "InstanceIds": ["ins-99999999"]})[0]
    other = call(srv, "A", "ImportKeyPair", {"KeyName": "extra", "ProjectId": 0, "PublicKey": synthetic_key(999, "x")})[0]
    # An associate replaces an instance's keys, so a 101st key on instance 0 takes its
    # place rather than crowding it: the per-instance bound is the 100 keys one request names.
    crowd = call(srv, "A", "AssociateInstancesKeyPairs", {"KeyIds": [other["KeyId"]], "InstanceIds": instances[:1]})[0]
    if code(r) != "OK" or code(over) != "InvalidParameterValue.LimitExceeded" or code(crowd) != "OK":
        fail(f"bindings: at the bound {code(r)}, past it {code(over)}, replacing {code(crowd)}")
    replaced = call(srv, "A", "DescribeKeyPairs", {"KeyIds": [keys[0], other["KeyId"]]})[0]["KeyPairSet"]
    held = sorted(len(kp["AssociatedInstanceIds"]) for kp in replaced)
    if held != [1, 99]:
        fail(f"bindings: after replacing instance 0's keys, the key pairs hold {held} instances")
    page, _, raw = call(srv, "A", "DescribeKeyPairs", {"Limit": 100})
    if len(page["KeyPairSet"]) != 100 or len(raw) > DESCRIBE_MAX_BYTES:
        fail(f"describe at the bounds: {len(raw)} bytes (bound {DESCRIBE_MAX_BYTES})")
    print(f"stored sizes: 1 MB comment, NUL/ESC, NBSP -> InvalidPublicKey.Malformed; 10,000 bindings OK, "
          f"the next -> InvalidParameterValue.LimitExceeded (per key pair), a new key on an instance "
          f"replaces its 100; describe of 100 key pairs at every "
          f"bound = {len(raw):,} bytes (bound {DESCRIBE_MAX_BYTES:,})", flush=True)


def oversized_body(srv):
    body = json.dumps({"KeyName": "x" * (10 << 20)}).encode()
    host = f"{srv.host}:{srv.port}"
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    try:
        c.request("POST", "/", body=body, headers=tc3_headers("A", "DescribeKeyPairs", body, host))
        got = code(json.loads(c.getresponse().read())["Response"])
    except (ConnectionError, http.client.HTTPException) as e:
        got = f"connection error {e!r}"
    c.close()
    if got != "RequestSizeLimitExceeded":
        fail(f"10 MB body: {got}")
    print("10 MB body: RequestSizeLimitExceeded in the envelope", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "keypaird"))
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 8192), hard), hard))
    srv = Server(args.binary, "cvm_requests_per_second = 1000")
    try:
        stalled_bodies(srv)
        partial_bodies(srv)
        nonce_flood(srv)
        log_flood(srv)
        oversized_body(srv)
        stored_sizes(srv)
        if srv.proc.poll() is not None:
            fail("keypaird exited during the attacks")
    finally:
        srv.stop()
    print("resource attacks: all bounds held", flush=True)


if __name__ == "__main__":
    main()
