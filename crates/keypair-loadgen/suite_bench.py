#!/usr/bin/env python3
"""A test suite's wall time on keypaird (through the pytest plugin) against moto's
`mock_aws` with boto3, side by side, round after round: issue 21's suite benchmark.

Usage: python3 crates/keypair-loadgen/suite_bench.py [--rounds 3] [--tests 50]
                                                     [--binary target/release/keypaird]

Both suites have `--tests` tests; each test starts from fresh state (the plugin's
`keypaird` fixture resets the server, `mock_aws` starts empty), makes 3 key pairs and
lists them once. Each suite is one `pytest -q` process, timed from its start to its end,
imports and server start-up included. Per round, in this order:
  - moto: `with mock_aws():` and boto3's EC2 CreateKeyPair ×3 + DescribeKeyPairs;
  - keypaird, first run: the plugin's defaults (`--seed 0`) with an empty key cache, so
    every key is generated while the suite runs;
  - keypaird, rerun: the same command again, now with the key cache the first run filled.
Prints the medians and their ratios to moto's as a Markdown table; the raw rounds go to
target/perf/suite.json. Installs what it needs into target/perf/suite-venv (pytest, the
official SDK, the plugin from this clone, moto[ec2], boto3). Temp dirs are removed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PERF = os.path.join(ROOT, "target", "perf")
VENV = os.path.join(PERF, "suite-venv")
PLUGIN = os.path.join(ROOT, "clients", "python", "pytest-keypaird")
PACKAGES = ["pytest", "tencentcloud-sdk-python-cvm", "tencentcloud-sdk-python-lighthouse", "moto[ec2]", "boto3"]

KEYPAIRD_SUITE = '''
import json
import pytest
from tencentcloud.cvm.v20170312 import models


def request(cls, **params):
    req = cls()
    req.from_json_string(json.dumps(params))
    return req


@pytest.mark.parametrize("n", range({tests}))
def test_three_creates_and_a_describe(keypaird, n):
    client = keypaird.cvm()
    for i in range(3):
        client.CreateKeyPair(request(models.CreateKeyPairRequest, KeyName=f"k{{n}}_{{i}}", ProjectId=0))
    assert client.DescribeKeyPairs(request(models.DescribeKeyPairsRequest)).TotalCount == 3
'''

MOTO_SUITE = '''
import boto3
import pytest
from moto import mock_aws


@pytest.mark.parametrize("n", range({tests}))
def test_three_creates_and_a_describe(n):
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="ap-southeast-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        for i in range(3):
            ec2.create_key_pair(KeyName=f"k{{n}}_{{i}}")
        assert len(ec2.describe_key_pairs()["KeyPairs"]) == 3
'''


def python():
    return os.path.join(VENV, "bin", "python")


def install():
    marker = os.path.join(VENV, ".installed-v1")
    if not os.path.exists(marker):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python(), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES],
                       check=True)
        open(marker, "w").close()
    # The plugin from this clone, every time, so the run measures this tree's.
    subprocess.run([python(), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--force-reinstall", PLUGIN], check=True, stdout=subprocess.DEVNULL)


def timed_pytest(work, test_file, *args, env=None):
    """Seconds of one `pytest -q` process; fails loudly if a test failed."""
    started = time.perf_counter()
    run = subprocess.run([python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file, *args],
                         cwd=work, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"suite_bench: {test_file} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return took


def one_round(work, binary, tests, r):
    env = dict(os.environ, KEYPAIRD_BIN=binary)
    moto = timed_pytest(work, "test_moto.py", env=env)
    with tempfile.TemporaryDirectory(prefix="keypaird-key-cache-") as cache:
        cached = ["--keypaird-key-cache", cache]
        first = timed_pytest(work, "test_keypaird.py", *cached, env=env)
        rerun = timed_pytest(work, "test_keypaird.py", *cached, env=env)
        kept = len(os.listdir(cache))
    row = {"round": r, "tests": tests, "moto_s": moto, "keypaird_first_s": first, "keypaird_rerun_s": rerun,
           "cache_entries": kept}
    print(f"round {r}: moto {moto:.2f} s, keypaird first {first:.2f} s, rerun {rerun:.2f} s "
          f"({kept} cache entries)", flush=True)
    return row


def report(rows):
    med = {k: statistics.median(r[k] for r in rows) for k in ("moto_s", "keypaird_first_s", "keypaird_rerun_s")}
    moto = med["moto_s"]
    print()
    print(f"| suite ({rows[0]['tests']} tests × 3 creates + 1 describe) | wall time, median of {len(rows)} | "
          "vs moto | target |")
    print("|---|---|---|---|")
    print(f"| moto `mock_aws` + boto3 | {moto:.2f} s | 1 | — |")
    print(f"| keypaird, first run (empty key cache) | {med['keypaird_first_s']:.2f} s | "
          f"{med['keypaird_first_s'] / moto:.3f}× | ≤ 0.5× |")
    print(f"| keypaird, rerun (`--seed`, key cache) | {med['keypaird_rerun_s']:.2f} s | "
          f"{med['keypaird_rerun_s'] / moto:.3f}× | ≤ 0.1× |")
    return med


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tests", type=int, default=50)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "keypaird"))
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "keypaird"], cwd=ROOT, check=True)
    os.makedirs(PERF, exist_ok=True)
    install()
    rows = []
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as work:
        for name, text in (("test_keypaird.py", KEYPAIRD_SUITE), ("test_moto.py", MOTO_SUITE)):
            with open(os.path.join(work, name), "w") as f:
                f.write(text.format(tests=args.tests))
        for r in range(1, args.rounds + 1):
            rows.append(one_round(work, os.path.abspath(args.binary), args.tests, r))
    med = report(rows)
    with open(os.path.join(PERF, "suite.json"), "w") as f:
        json.dump({"rounds": rows, "medians": med}, f, indent=1)


if __name__ == "__main__":
    main()
