"""Where the plugin finds keypaird: --keypaird-binary, $KEYPAIRD_BIN, the PATH, then the
release build of the clone pytest runs in; a miss names all of them."""

import os
import stat

import pytest

from pytest_keypaird.server import find_binary


def executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No KEYPAIRD_BIN, an empty PATH, and a working directory outside any clone."""
    monkeypatch.delenv("KEYPAIRD_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_order_is_option_variable_path_clone(nowhere, monkeypatch):
    clone = nowhere / "keypair"
    (clone / "crates" / "keypaird").mkdir(parents=True)
    (clone / "crates" / "keypaird" / "Cargo.toml").write_text("[package]\n")
    built = executable(clone / "target" / "release" / "keypaird")
    monkeypatch.chdir(clone / "crates")
    assert find_binary() == built
    on_path = executable(nowhere / "bin" / "keypaird")
    monkeypatch.setenv("PATH", str(nowhere / "bin"))
    assert find_binary() == on_path
    monkeypatch.setenv("KEYPAIRD_BIN", "/from/the/variable")
    assert find_binary() == "/from/the/variable"
    assert find_binary("/from/the/option") == "/from/the/option"


def test_a_miss_names_every_place_and_how_to_fill_one(nowhere):
    with pytest.raises(RuntimeError) as e:
        find_binary()
    message = str(e.value)
    for part in ("KEYPAIRD_BIN", "--keypaird-binary", "PATH", "cargo install --locked --path crates/keypaird",
                 "target/release/keypaird", "not in a clone"):
        assert part in message, (part, message)


def test_a_clone_without_a_build_says_which_file_is_missing(nowhere, monkeypatch):
    clone = nowhere / "keypair"
    (clone / "crates" / "keypaird").mkdir(parents=True)
    (clone / "crates" / "keypaird" / "Cargo.toml").write_text("[package]\n")
    monkeypatch.chdir(clone)
    with pytest.raises(RuntimeError) as e:
        find_binary()
    assert os.path.join(str(clone), "target", "release", "keypaird") + " does not exist" in str(e.value)
