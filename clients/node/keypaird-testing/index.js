// Start keypaird for a test suite: an ephemeral server in test-credentials mode on a free
// loopback port, with the admin API on for resets. Works with node:test and any runner.
//
//   const { startKeypaird } = require("keypaird-testing");
//   const kp = await startKeypaird();          // binary: opts.binary, $KEYPAIRD_BIN, or PATH
//   const cvm = kp.cvmClient();                 // needs tencentcloud-sdk-nodejs-cvm
//   ...
//   await kp.reset();                           // empty it between tests
//   await kp.stop();
"use strict";
const { spawn } = require("child_process");
const crypto = require("crypto");
const http = require("http");
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
    child.on("error", reject);
  });
}

/** A request to the admin API: { status, body }. */
function admin(endpoint, token, method, path) {
  return new Promise((resolve, reject) => {
    const req = http.request(`http://${endpoint}/_keypaird/${path}`, { method, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(data) }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function startKeypaird(opts = {}) {
  const binary = opts.binary || process.env.KEYPAIRD_BIN || "keypaird";
  const token = crypto.randomBytes(16).toString("hex");
  const child = spawn(binary, ["serve", "--ephemeral", "--test-credentials", "--listen", "127.0.0.1:0", "--admin-token", token], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [listening, json] = await readStartLines(child);
  if (!listening.startsWith("listening on http://")) {
    child.kill();
    throw new Error(`keypaird did not start: ${listening}`);
  }
  const line = JSON.parse(json);
  const endpoint = line.endpoint;
  const clientFor = (sdk, product, version, secretId) =>
    new (require(sdk)[product][version].Client)({
      // Test-credentials mode: any well-formed SecretId is an account, signed with itself.
      credential: { secretId: secretId || line.secret_id, secretKey: secretId || line.secret_key },
      region: "ap-guangzhou",
      profile: { httpProfile: { endpoint, protocol: "http://" } },
    });
  return {
    endpoint,
    secretId: line.secret_id,
    secretKey: line.secret_key,
    account: line.account,
    region: "ap-guangzhou",
    cvmClient: (secretId) => clientFor("tencentcloud-sdk-nodejs-cvm", "cvm", "v20170312", secretId),
    lighthouseClient: (secretId) => clientFor("tencentcloud-sdk-nodejs-lighthouse", "lighthouse", "v20200324", secretId),
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
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
}

module.exports = { startKeypaird };
