#!/usr/bin/env bash
# Pastes the README's embedding example into a fresh crate outside the workspace, exactly
# as a reader would: `cargo new embed`, this checkout next to it as ../keypair, the
# README's `[dependencies]` block appended to Cargo.toml and its program as src/main.rs.
# Then builds and runs it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ln -s "$repo" "$work/keypair"
cd "$work"
cargo new -q embed
cd embed
# The first ```toml and ```rust blocks after the "Embedding the core" heading.
python3 - "$repo/README.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text[text.index("## Embedding the core"):]
toml = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
rust = re.search(r"```rust\n(.*?)```", section, re.S).group(1)
with open("Cargo.toml") as f:
    manifest = f.read().replace("[dependencies]\n", "")
open("Cargo.toml", "w").write(manifest.rstrip() + "\n\n" + toml)
open("src/main.rs", "w").write(rust)
PY
# Share the checkout's build cache; the crate is still its own workspace.
export CARGO_TARGET_DIR="$repo/target/readme-example"
cargo run -q
