// Start keypaird for a test suite: an ephemeral server in test-credentials mode on a free
// loopback port, with the admin API on for resets. Works with node:test and any runner.
//
//   const { startKeypaird } = require("keypaird-testing");
//   const kp = await startKeypaird();   // finds keypaird: opts.binary, $KEYPAIRD_BIN, the PATH, a clone's build
//   const cvm = kp.cvmClient();          // the official SDK's client (tencentcloud-sdk-nodejs-cvm)
//   ...
//   await kp.reset();                    // empty it (and its fault rules) between tests
//   await kp.failNext("CreateKeyPair", "RequestLimitExceeded", { times: 2 });  // inject faults
//   await kp.seed(42);                   // ids, RequestIds and keys start over from 42
//   const j = await kp.journal(); ...; const entries = await j.stop();  // record calls
//   await kp.stop();
"use strict";
const { spawn } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const os = require("os");
const { createRequire } = require("module");
const path = require("path");
const readline = require("readline");

/** Reads the `listening on` line and the JSON credential line keypaird prints. */
function readStartLines(child) {
  return new Promise((resolve, reject) => {
    const lines = [];
    const rl = readline.createInterface({ input: child.stdout });
    rl.on("line", (line) => {
      lines.push(line);
      if (lines.length === 2) {
        rl.close();
        resolve(lines);
      }
    });
    child.on("exit", (code) => reject(new Error(`keypaird exited (${code}) before it started: ${lines.join(" | ")}`)));
    child.on("error", (e) => reject(new Error(`keypaird could not be started (${child.spawnfile}): ${e.message}`)));
  });
}

/** A request to the admin API, with an optional JSON body: { status, body } (`raw`: the text). */
function admin(endpoint, token, method, adminPath, payload, raw) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${token}` };
    const data = payload === undefined ? null : JSON.stringify(payload);
    if (data !== null) headers["Content-Type"] = "application/json";
    const req = http.request(`http://${endpoint}/_keypaird/${adminPath}`, { method, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, body: raw && res.statusCode === 200 ? text : JSON.parse(text) }));
    });
    req.on("error", reject);
    if (data !== null) req.write(data);
    req.end();
  });
}

/** Where seeded keys are kept between runs: $XDG_CACHE_HOME/keypaird/keys, else ~/.cache/keypaird/keys. */
function defaultKeyCache() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "keypaird", "keys");
}

/** An executable file named `name` in one of the PATH's directories, or null. */
function onPath(name) {
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    const candidate = path.join(dir || ".", name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch (_) {
      // not here
    }
  }
  return null;
}

/** The root of the keypair clone `dir` is in (it has crates/keypaird), or null. */
function cloneRoot(dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "crates", "keypaird", "Cargo.toml"))) return d;
    if (path.dirname(d) === d) return null;
  }
}

/**
 * The keypaird binary: `explicit`, else $KEYPAIRD_BIN, else `keypaird` on the PATH, else
 * target/release/keypaird of the clone the current directory is in.
 */
function findKeypaird(explicit) {
  if (explicit) return explicit;
  if (process.env.KEYPAIRD_BIN) return process.env.KEYPAIRD_BIN;
  const found = onPath("keypaird");
  if (found) return found;
  const root = cloneRoot(process.cwd());
  const built = root && path.join(root, "target", "release", "keypaird");
  if (built && fs.existsSync(built)) return built;
  throw new Error(
    "keypaird not found: set KEYPAIRD_BIN to its path, or put it on the PATH " +
      "(cargo install --locked --path crates/keypaird in a clone of keypair), or run from a clone " +
      "that has built it (cargo build --release -p keypaird gives target/release/keypaird)" +
      (built ? `; ${built} does not exist` : "; the current directory is not in a clone"),
  );
}

/**
 * Loads an official SDK package: from this helper's own place, or else from the project
 * that runs the tests (an `npm install <path>` links this helper, so its own place may
 * be outside the project's node_modules).
 */
function sdk(name) {
  const tried = [];
  for (const from of [__filename, path.join(process.cwd(), "noop.js")]) {
    try {
      return createRequire(from)(name);
    } catch (e) {
      if (e.code !== "MODULE_NOT_FOUND") throw e;
      tried.push(path.dirname(from));
    }
  }
  throw new Error(`${name} is not installed: npm install ${name} (looked from ${tried.join(" and ")})`);
}

/** The CVM client class: tencentcloud-sdk-nodejs-cvm, or the full SDK's. */
function cvmClass() {
  try {
    return sdk("tencentcloud-sdk-nodejs-cvm").cvm.v20170312.Client;
  } catch (e) {
    try {
      return sdk("tencentcloud-sdk-nodejs").cvm.v20170312.Client;
    } catch (_) {
      throw e;
    }
  }
}

/** The Lighthouse client class: only the full SDK has it (there is no -lighthouse package). */
function lighthouseClass() {
  return sdk("tencentcloud-sdk-nodejs").lighthouse.v20200324.Client;
}

/** The `serve` arguments: ephemeral, test credentials, the admin API, no rate limits, and by default seed 0 with the key cache. */
function serveArgs(token, opts) {
  const args = ["serve", "--ephemeral", "--test-credentials", "--listen", "127.0.0.1:0", "--admin-token", token];
  // A suite sets its own pace: rate limits off unless asked for (inject them with failNext).
  if (!opts.rateLimits) args.push("--no-rate-limits");
  const seed = opts.seed === undefined ? 0 : opts.seed;
  if (seed !== "random") {
    args.push("--seed", String(seed));
    const cache = opts.keyCache === undefined ? defaultKeyCache() : opts.keyCache;
    if (cache !== "none") args.push("--key-cache", cache);
  }
  return args;
}

/** The fault, seed, clock and journal calls of the admin API (docs/testing.md). */
function steering(call) {
  const ok = async (method, adminPath, payload, raw) => {
    const { status, body } = await call(method, adminPath, payload, raw);
    if (status !== 200) throw new Error(`keypaird ${method} /_keypaird/${adminPath} failed: ${status} ${JSON.stringify(body)}`);
    return body;
  };
  const match = (action, o) => Object.assign({ Action: action, Times: o.times || 1 }, o.product ? { Product: o.product } : {}, o.after ? { When: "after" } : {});
  return {
    /** Adds a fault rule in the admin API's names; resolves to its id. */
    async fault(rule) {
      return (await ok("POST", "faults", rule)).Id;
    },
    failNext(action, code, o = {}) {
      return this.fault(Object.assign(match(action, o), { Error: o.message ? { Code: code, Message: o.message } : { Code: code } }));
    },
    delayNext(action, seconds, o = {}) {
      return this.fault(Object.assign(match(action, o), { LatencyMs: Math.round(seconds * 1000) }));
    },
    dropNext(action, o = {}) {
      return this.fault(Object.assign(match(action, o), { Drop: true }));
    },
    async faults() {
      return (await ok("GET", "faults")).Rules;
    },
    async clearFaults() {
      return (await ok("DELETE", "faults")).Deleted;
    },
    seed(n) {
      return ok("POST", "seed", { Seed: n });
    },
    clock(change) {
      return change ? ok("POST", "clock", change) : ok("GET", "clock");
    },
    /** Starts recording; `await (await kp.journal()).stop()` resolves to the entries. */
    async journal() {
      await ok("POST", "journal/start");
      return {
        async stop() {
          await ok("POST", "journal/stop");
          const text = await ok("GET", "journal", undefined, true);
          return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
        },
      };
    },
  };
}

async function startKeypaird(opts = {}) {
  const binary = findKeypaird(opts.binary);
  const token = crypto.randomBytes(16).toString("hex");
  const child = spawn(binary, serveArgs(token, opts), {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [listening, json] = await readStartLines(child);
  if (!listening.startsWith("listening on http://")) {
    child.kill();
    throw new Error(`keypaird did not start: ${listening}`);
  }
  const line = JSON.parse(json);
  const endpoint = line.endpoint;
  const clientOf = (Client, secretId) =>
    new Client({
      // Test-credentials mode: any well-formed SecretId is an account, signed with itself.
      credential: { secretId: secretId || line.secret_id, secretKey: secretId || line.secret_key },
      region: "ap-guangzhou",
      profile: { httpProfile: { endpoint, protocol: "http://" } },
    });
  const call = (method, adminPath, payload, raw) => admin(endpoint, token, method, adminPath, payload, raw);
  return {
    ...steering(call),
    endpoint,
    secretId: line.secret_id,
    secretKey: line.secret_key,
    account: line.account,
    region: "ap-guangzhou",
    cvmClient: (secretId) => clientOf(cvmClass(), secretId),
    lighthouseClient: (secretId) => clientOf(lighthouseClass(), secretId),
    async reset(account) {
      const { status, body } = await admin(endpoint, token, "POST", account ? `reset?account=${account}` : "reset");
      if (status !== 200) throw new Error(`keypaird reset failed: ${status} ${JSON.stringify(body)}`);
      return body.Removed;
    },
    async ready() {
      return (await admin(endpoint, token, "GET", "ready")).status === 200;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
}

module.exports = { startKeypaird, findKeypaird };
