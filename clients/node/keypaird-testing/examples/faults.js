// Client behaviour that only a faulty server exercises, with the official Node SDK: a
// retry written around the SDK gets through two injected rate limits, and the journal
// shows what the server saw. From this directory: npm install && npm test
"use strict";
const { test, before, after, beforeEach } = require("node:test");
const assert = require("node:assert");
const { startKeypaird } = require("..");

let kp;
before(async () => {
  kp = await startKeypaird();
});
after(async () => {
  await kp.stop();
});
beforeEach(async () => {
  await kp.reset();
});

/** The SDK's own retryable codes: a retry takes the last attempt's outcome. */
const RETRYABLE = new Set(["RequestLimitExceeded", "ClientNetworkError", "ServerNetworkError"]);

async function withRetry(call, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!RETRYABLE.has(e.code) || attempt === attempts) throw e;
    }
  }
}

test("a retry gets a create through two injected rate limits", async () => {
  await kp.failNext("CreateKeyPair", "RequestLimitExceeded", { times: 2 });
  const journal = await kp.journal();
  const cvm = kp.cvmClient();
  const created = await withRetry(() => cvm.CreateKeyPair({ KeyName: "retried", ProjectId: 0 }));
  assert.strictEqual(created.KeyPair.KeyName, "retried");
  const codes = (await journal.stop()).map((e) => e.Code);
  assert.deepStrictEqual(codes, ["RequestLimitExceeded", "RequestLimitExceeded", "OK"]);
});

test("without a retry the injected code reaches the caller, and a reset clears the rule", async () => {
  await kp.failNext("CreateKeyPair", "RequestLimitExceeded", { times: 5 });
  await assert.rejects(kp.cvmClient().CreateKeyPair({ KeyName: "once", ProjectId: 0 }), (e) => e.code === "RequestLimitExceeded");
  await kp.reset();
  assert.deepStrictEqual(await kp.faults(), []);
  await kp.cvmClient().CreateKeyPair({ KeyName: "once", ProjectId: 0 });
});

test("a seed repeats ids and keys", async () => {
  const once = async () => {
    await kp.seed(42);
    await kp.reset();
    const k = (await kp.cvmClient().CreateKeyPair({ KeyName: "seeded", ProjectId: 0 })).KeyPair;
    return [k.KeyId, k.PublicKey, k.CreatedTime];
  };
  assert.deepStrictEqual(await once(), await once());
});
