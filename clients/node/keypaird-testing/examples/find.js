// Where the helper finds keypaird: opts.binary, $KEYPAIRD_BIN, the PATH, then the release
// build of the clone the tests run in; a miss names all of them. Run: node --test examples/find.js
"use strict";
const { test, beforeEach, afterEach } = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { findKeypaird } = require("..");

let dir, saved;
beforeEach(() => {
  saved = { cwd: process.cwd(), PATH: process.env.PATH, BIN: process.env.KEYPAIRD_BIN };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "find-keypaird-"));
  delete process.env.KEYPAIRD_BIN;
  process.env.PATH = path.join(dir, "empty-bin");
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(saved.cwd);
  process.env.PATH = saved.PATH;
  if (saved.BIN === undefined) delete process.env.KEYPAIRD_BIN;
  else process.env.KEYPAIRD_BIN = saved.BIN;
  fs.rmSync(dir, { recursive: true, force: true });
});

function executable(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
  return file;
}

function clone() {
  const root = path.join(dir, "keypair");
  fs.mkdirSync(path.join(root, "crates", "keypaird"), { recursive: true });
  fs.writeFileSync(path.join(root, "crates", "keypaird", "Cargo.toml"), "[package]\n");
  return root;
}

test("the order is option, variable, PATH, clone", () => {
  const root = clone();
  const built = executable(path.join(root, "target", "release", "keypaird"));
  process.chdir(path.join(root, "crates"));
  assert.strictEqual(findKeypaird(), built);
  const onPath = executable(path.join(dir, "bin", "keypaird"));
  process.env.PATH = path.join(dir, "bin");
  assert.strictEqual(findKeypaird(), onPath);
  process.env.KEYPAIRD_BIN = "/from/the/variable";
  assert.strictEqual(findKeypaird(), "/from/the/variable");
  assert.strictEqual(findKeypaird("/from/the/option"), "/from/the/option");
});

test("a miss names every place and how to fill one", () => {
  assert.throws(findKeypaird, (e) =>
    ["KEYPAIRD_BIN", "PATH", "cargo install --locked --path crates/keypaird", "target/release/keypaird", "not in a clone"].every((p) =>
      e.message.includes(p),
    ),
  );
});

test("a clone without a build says which file is missing", () => {
  const root = clone();
  process.chdir(root);
  assert.throws(findKeypaird, (e) => e.message.includes(`${path.join(root, "target", "release", "keypaird")} does not exist`));
});
