// End-to-end: the official Tencent Cloud Node.js SDK (tencentcloud-sdk-nodejs-cvm) against
// a running keypaird, over POST and GET. The Node SDK signs the host without its port and
// the service "127" at an IP endpoint; the server must accept both.
// Run by run.sh with KEYPAIR_ENDPOINT, KEYPAIR_ID1, KEYPAIR_KEY1 set.
"use strict";
const assert = require("assert");
const crypto = require("crypto");
const { cvm } = require("tencentcloud-sdk-nodejs-cvm");

function client(reqMethod, secretKey = process.env.KEYPAIR_KEY1) {
  return new cvm.v20170312.Client({
    credential: { secretId: process.env.KEYPAIR_ID1, secretKey },
    region: "ap-guangzhou",
    profile: {
      language: "en-US",
      httpProfile: { endpoint: process.env.KEYPAIR_ENDPOINT, protocol: "http://", reqMethod },
    },
  });
}

async function main() {
  let checks = 0;
  for (const method of ["POST", "GET"]) {
    const c = client(method);
    const name = `node_${method.toLowerCase()}`;
    const created = await c.CreateKeyPair({ KeyName: name, ProjectId: 0 });
    const kp = created.KeyPair;
    assert.ok(kp.KeyId.startsWith("skey-"), kp.KeyId);
    // The private key is PKCS#1 and its public half is the returned public key.
    assert.ok(kp.PrivateKey.startsWith("-----BEGIN RSA PRIVATE KEY-----\n"));
    const der = crypto.createPublicKey(kp.PrivateKey).export({ type: "pkcs1", format: "der" });
    const fromSsh = crypto.createPublicKey({ key: sshToJwk(kp.PublicKey), format: "jwk" }).export({ type: "pkcs1", format: "der" });
    assert.ok(der.equals(fromSsh), "private key matches the public key");
    const described = await c.DescribeKeyPairs({ KeyIds: [kp.KeyId] });
    assert.strictEqual(described.TotalCount, 1);
    assert.strictEqual(described.KeyPairSet[0].KeyName, name);
    await assert.rejects(c.CreateKeyPair({ KeyName: name, ProjectId: 0 }), (e) => e.code === "InvalidKeyPairName.Duplicate");
    await assert.rejects(client(method, "wrong-secret-key-0000").DescribeKeyPairs({}), (e) => e.code === "AuthFailure.SignatureFailure");
    await c.DeleteKeyPairs({ KeyIds: [kp.KeyId] });
    checks += 6;
    console.log(`ok node ${method}`);
  }
  console.log(`node e2e: ${checks} checks passed`);
}

// An OpenSSH ssh-rsa line to a JWK, to compare with the PEM's public half.
function sshToJwk(line) {
  const blob = Buffer.from(line.split(" ")[1], "base64");
  const parts = [];
  for (let off = 0; off < blob.length; ) {
    const len = blob.readUInt32BE(off);
    parts.push(blob.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  const strip = (b) => (b[0] === 0 ? b.subarray(1) : b);
  return { kty: "RSA", e: strip(parts[1]).toString("base64url"), n: strip(parts[2]).toString("base64url") };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
