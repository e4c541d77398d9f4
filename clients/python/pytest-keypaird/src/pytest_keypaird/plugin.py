"""The pytest plugin: registered through the `pytest11` entry point."""

import pytest

from .server import default_key_cache, start


def pytest_addoption(parser):
    parser.addoption("--keypaird-binary", default=None,
                     help="path of the keypaird binary (default: $KEYPAIRD_BIN, then the PATH, then "
                          "target/release/keypaird of the clone pytest runs in)")
    parser.addoption("--keypaird-seed", default="0",
                     help="the deterministic mode's seed: ids, RequestIds and keys repeat from run to "
                          "run (default 0); 'random' for random ones")
    parser.addoption("--keypaird-key-cache", default=None,
                     help="where seeded keys are kept between runs (default: "
                          "$XDG_CACHE_HOME/keypaird/keys or ~/.cache/keypaird/keys); 'none' keeps none")
    parser.addoption("--keypaird-rate-limits", action="store_true", default=False,
                     help="keep the documented per-action rate limits (default: off, so a fast "
                          "suite is never refused; inject RequestLimitExceeded with fail_next)")


@pytest.fixture(scope="session")
def keypaird_server(request):
    """One keypaird for the whole session (state carries over between tests)."""
    seed = request.config.getoption("--keypaird-seed")
    cache = request.config.getoption("--keypaird-key-cache") or default_key_cache()
    server = start(request.config.getoption("--keypaird-binary"),
                   seed=None if seed == "random" else int(seed),
                   key_cache=None if cache == "none" else cache,
                   rate_limits=request.config.getoption("--keypaird-rate-limits"))
    yield server
    server.stop()


@pytest.fixture
def keypaird(keypaird_server):
    """The session's keypaird, emptied (key pairs and fault rules) before the test."""
    keypaird_server.reset()
    return keypaird_server
