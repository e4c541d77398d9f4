"""The pytest plugin: registered through the `pytest11` entry point."""

import pytest

from .server import start


def pytest_addoption(parser):
    parser.addoption("--keypaird-binary", default=None,
                     help="path of the keypaird binary (default: $KEYPAIRD_BIN, then the PATH, then "
                          "target/release/keypaird of the clone pytest runs in)")


@pytest.fixture(scope="session")
def keypaird_server(request):
    """One keypaird for the whole session (state carries over between tests)."""
    server = start(request.config.getoption("--keypaird-binary"))
    yield server
    server.stop()


@pytest.fixture
def keypaird(keypaird_server):
    """The session's keypaird, emptied before the test."""
    keypaird_server.reset()
    return keypaird_server
