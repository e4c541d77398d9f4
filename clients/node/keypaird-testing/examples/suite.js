// An example suite with node:test and the official Node SDK. From this directory, with
// keypaird on the PATH (or KEYPAIRD_BIN set): npm install && npm test
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

test("create, then describe", async () => {
  const cvm = kp.cvmClient();
  const created = await cvm.CreateKeyPair({ KeyName: "node_ci", ProjectId: 0 });
  assert.ok(created.KeyPair.PrivateKey.startsWith("-----BEGIN RSA PRIVATE KEY-----"));
  const page = await cvm.DescribeKeyPairs({});
  assert.strictEqual(page.TotalCount, 1);
});

test("each test starts empty", async () => {
  const page = await kp.cvmClient().DescribeKeyPairs({});
  assert.strictEqual(page.TotalCount, 0);
});

test("error codes come back as the SDK raises them", async () => {
  await assert.rejects(kp.cvmClient().DeleteKeyPairs({ KeyIds: ["skey-00000000"] }), (e) => e.code === "InvalidKeyPairId.NotFound");
});

test("reset of one account keeps the others, and the server is ready", async () => {
  await kp.cvmClient().CreateKeyPair({ KeyName: "mine", ProjectId: 0 });
  await kp.cvmClient("AKIDotherteam").CreateKeyPair({ KeyName: "theirs", ProjectId: 0 });
  assert.strictEqual(await kp.reset(kp.account), 1);
  assert.strictEqual((await kp.cvmClient().DescribeKeyPairs({})).TotalCount, 0);
  assert.strictEqual((await kp.cvmClient("AKIDotherteam").DescribeKeyPairs({})).TotalCount, 1);
  assert.ok(await kp.ready());
});
