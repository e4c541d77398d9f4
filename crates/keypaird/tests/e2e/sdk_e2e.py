"""End-to-end: the official Tencent Cloud Python SDK and tccli against a running keypaird.

Every action of both products, through TC3 POST, TC3 GET and legacy HmacSHA256 signing,
asserting on results and on error codes. Run by run.sh, which starts the server and sets:
KEYPAIR_ENDPOINT (host:port), KEYPAIR_ID1/KEY1 and KEYPAIR_ID2/KEY2 (two accounts with no
instances configured: any well-formed instance id exists and is stopped), and
KEYPAIR_ID3/KEY3 (an account whose config lists instances in every relevant state).
"""

import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models as cvm_models
from tencentcloud.lighthouse.v20200324 import lighthouse_client, models as lh_models

ENDPOINT = os.environ["KEYPAIR_ENDPOINT"]
ID1, KEY1 = os.environ["KEYPAIR_ID1"], os.environ["KEYPAIR_KEY1"]
ID2, KEY2 = os.environ["KEYPAIR_ID2"], os.environ["KEYPAIR_KEY2"]
ID3, KEY3 = os.environ["KEYPAIR_ID3"], os.environ["KEYPAIR_KEY3"]

MODES = {
    "tc3post": ("POST", "TC3-HMAC-SHA256"),
    "tc3get": ("GET", "TC3-HMAC-SHA256"),
    "legacy": ("POST", "HmacSHA256"),
    "legacyget": ("GET", "HmacSHA256"),
}
PRODUCTS = {
    "cvm": (cvm_client.CvmClient, cvm_models, "skey-", "ins-1e4r6y8i"),
    "lighthouse": (lighthouse_client.LighthouseClient, lh_models, "lhkp-", "lhins-ruy9d2tw"),
}
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


def client(product, mode, secret_id=ID1, secret_key=KEY1):
    method, sign = MODES[mode]
    cls = PRODUCTS[product][0]
    profile = ClientProfile(
        httpProfile=HttpProfile(endpoint=ENDPOINT, protocol="http", reqMethod=method),
        signMethod=sign,
        language="en-US",
    )
    return cls(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)


def call(c, product, action, params):
    models = PRODUCTS[product][1]
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(params))
    return json.loads(getattr(c, action)(req).to_json_string())


def error_code(c, product, action, params):
    try:
        resp = call(c, product, action, params)
    except TencentCloudSDKException as e:
        return e.get_code()
    raise AssertionError(f"{action} {params} succeeded: {resp}")


def new_public_key(comment):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {comment}"


def check_private_key(pem, public_key):
    """The PKCS#1 private key is valid and its public half is the returned public key."""
    check(pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n"), "PKCS#1 PEM header")
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    half = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    check(half.decode() == " ".join(public_key.split()[:2]), "private key matches the public key")
    check(private.key_size == 2048, "2048-bit key")


def tags_param(product, key, value):
    tags = [{"Key": key, "Value": value}]
    if product == "cvm":
        return {"TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]}
    return {"Tags": tags}


def project(product):
    return {"ProjectId": 0} if product == "cvm" else {}


def every_action(product, mode):
    c = client(product, mode)
    prefix, instance = PRODUCTS[product][2], PRODUCTS[product][3]
    name = f"{mode}_{product}"[:25]
    created = call(c, product, "CreateKeyPair", {"KeyName": name, **project(product)})["KeyPair"]
    kid = created["KeyId"]
    check(kid.startswith(prefix), f"{kid} has prefix {prefix}")
    check(created["KeyName"] == name, "name echoed")
    check_private_key(created["PrivateKey"], created["PublicKey"])

    public_key = new_public_key(f"{mode}@e2e")
    imported = call(
        c, product, "ImportKeyPair",
        {"KeyName": name + "_i"[: 25 - len(name)] if len(name) < 24 else "i_" + mode, "PublicKey": public_key,
         **project(product), **tags_param(product, "mode", mode)},
    )
    iid = imported["KeyId"]
    check(iid.startswith(prefix), "import returns an id")

    page = call(c, product, "DescribeKeyPairs", {"Filters": [{"Name": "tag:mode", "Values": [mode]}]})
    check(page["TotalCount"] == 1 and page["KeyPairSet"][0]["KeyId"] == iid, f"tag filter finds the import: {page}")
    item = page["KeyPairSet"][0]
    check(item["PublicKey"] == public_key, "public key as imported")
    check(item["Tags"] == [{"Key": "mode", "Value": mode}], "tags round trip")
    by_ids = call(c, product, "DescribeKeyPairs", {"KeyIds": [kid, iid]})
    check(by_ids["TotalCount"] == 2, "describe by ids")
    check(all(not kp.get("PrivateKey") for kp in by_ids["KeyPairSet"]), "no private key in describe")
    paged = call(c, product, "DescribeKeyPairs", {"KeyIds": [kid, iid], "Limit": 1, "Offset": 1})
    check(paged["TotalCount"] == 2 and len(paged["KeyPairSet"]) == 1, "paging keeps the total")

    if product == "cvm":
        call(c, product, "ModifyKeyPairAttribute", {"KeyId": iid, "KeyName": "renamed_" + mode[:10], "Description": "e2e"})
        got = call(c, product, "DescribeKeyPairs", {"KeyIds": [iid]})["KeyPairSet"][0]
        check(got["KeyName"] == "renamed_" + mode[:10] and got["Description"] == "e2e", "modified")

    call(c, product, "AssociateInstancesKeyPairs", {"KeyIds": [kid], "InstanceIds": [instance]})
    got = call(c, product, "DescribeKeyPairs", {"KeyIds": [kid]})["KeyPairSet"][0]
    check(got["AssociatedInstanceIds"] == [instance], "associated")
    in_use = "InvalidParameterValue.KeyPairNotSupported" if product == "cvm" else "ResourceInUse.KeyPairInUse"
    check(error_code(c, product, "DeleteKeyPairs", {"KeyIds": [kid]}) == in_use, "bound key pairs cannot be deleted")
    call(c, product, "DisassociateInstancesKeyPairs", {"KeyIds": [kid], "InstanceIds": [instance]})
    call(c, product, "DeleteKeyPairs", {"KeyIds": [kid, iid]})
    check(call(c, product, "DescribeKeyPairs", {"KeyIds": [kid, iid]})["TotalCount"] == 0, "deleted")


def error_codes(product, mode):
    c = client(product, mode)
    cvm = product == "cvm"
    name = f"err_{mode}"
    pk = new_public_key("errors")
    call(c, product, "ImportKeyPair", {"KeyName": name, "PublicKey": pk, **project(product)})
    dup_name = "InvalidKeyPairName.Duplicate" if cvm else "InvalidParameterValue.DuplicateParameterValue"
    check(error_code(c, product, "ImportKeyPair", {"KeyName": name, "PublicKey": new_public_key("x"), **project(product)}) == dup_name, "duplicate name")
    check(error_code(c, product, "CreateKeyPair", {"KeyName": name, **project(product)}) == dup_name, "duplicate name on create")
    dup_key = "InvalidPublicKey.Duplicate" if cvm else "InvalidParameterValue.KeyPairPublicKeyDuplicated"
    other_comment = " ".join(pk.split()[:2]) + " another@comment"
    check(error_code(c, product, "ImportKeyPair", {"KeyName": name + "2", "PublicKey": other_comment, **project(product)}) == dup_key, "duplicate public key")
    malformed = "InvalidPublicKey.Malformed" if cvm else "InvalidParameterValue.KeyPairPublicKeyMalformed"
    for bad in ["ssh-rsa AAAA", "not a key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti"]:
        check(error_code(c, product, "ImportKeyPair", {"KeyName": "m", "PublicKey": bad, **project(product)}) == malformed, f"malformed {bad!r}")
    names = {"": "Empty", "bad name": "IncludeIllegalChar", "x" * 26: "TooLong"}
    for bad, suffix in names.items():
        want = ("InvalidKeyPairName" if cvm else "InvalidParameterValue.InvalidKeyPairName") + suffix
        check(error_code(c, product, "CreateKeyPair", {"KeyName": bad, **project(product)}) == want, f"bad name {bad!r}")
    both = {"KeyIds": [PRODUCTS[product][2] + "11112222"], "Filters": [{"Name": "key-name", "Values": ["a"]}]}
    check(error_code(c, product, "DescribeKeyPairs", both) == ("InvalidParameterCombination" if cvm else "InvalidParameter.ParameterConflict"), "KeyIds with Filters")
    check(error_code(c, product, "DescribeKeyPairs", {"Limit": 101}) == ("InvalidParameterValueLimit" if cvm else "InvalidParameterValue.OutOfRange"), "Limit 101")
    wrong = client(product, mode, ID1, KEY1[:-1] + ("x" if KEY1[-1] != "x" else "y"))
    check(error_code(wrong, product, "DescribeKeyPairs", {}) == "AuthFailure.SignatureFailure", "wrong secret key")
    # A second account sees nothing of the first and cannot delete it.
    mine = call(c, product, "DescribeKeyPairs", {"Filters": [{"Name": "key-name", "Values": [name]}]})["KeyPairSet"][0]["KeyId"]
    other = client(product, mode, ID2, KEY2)
    check(call(other, product, "DescribeKeyPairs", {"KeyIds": [mine]})["TotalCount"] == 0, "isolation: describe")
    check(call(other, product, "DescribeKeyPairs", {})["TotalCount"] == 0, "isolation: list")
    not_found = "InvalidKeyPairId.NotFound" if cvm else "ResourceNotFound.KeyIdNotFound"
    check(error_code(other, product, "DeleteKeyPairs", {"KeyIds": [mine]}) == not_found, "isolation: delete")
    call(c, product, "DeleteKeyPairs", {"KeyIds": [mine]})


def tccli(*args):
    env = dict(os.environ, TENCENTCLOUD_SECRET_ID=ID1, TENCENTCLOUD_SECRET_KEY=KEY1, TENCENTCLOUD_REGION="ap-guangzhou")
    tccli_bin = os.path.join(os.path.dirname(sys.executable), "tccli")
    out = subprocess.run([tccli_bin, *args, "--endpoint", "http://" + ENDPOINT], env=env, capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr


def via_tccli():
    rc, out = tccli("cvm", "CreateKeyPair", "--KeyName", "from_tccli", "--ProjectId", "0")
    check(rc == 0, f"tccli create: {out}")
    created = json.loads(out)["KeyPair"]
    check_private_key(created["PrivateKey"], created["PublicKey"])
    rc, out = tccli("cvm", "DescribeKeyPairs", "--KeyIds", json.dumps([created["KeyId"]]))
    check(rc == 0 and json.loads(out)["KeyPairSet"][0]["KeyName"] == "from_tccli", f"tccli describe: {out}")
    rc, out = tccli("cvm", "CreateKeyPair", "--KeyName", "from_tccli", "--ProjectId", "0")
    check(rc != 0 and "InvalidKeyPairName.Duplicate" in out, f"tccli shows the error code: {out}")
    rc, out = tccli("lighthouse", "CreateKeyPair", "--KeyName", "from_tccli")
    check(rc == 0 and json.loads(out)["KeyPair"]["KeyId"].startswith("lhkp-"), f"tccli lighthouse: {out}")


def answer(c, product, action, params):
    """`OK` or the error code, for tables of cases."""
    try:
        call(c, product, action, params)
        return "OK"
    except TencentCloudSDKException as e:
        return e.get_code()


# Per signing mode, a running instance of each product (run.sh lists them), since the
# cases stop them.
RUNNING = {
    "tc3post": ("ins-running1", "lhins-running1"),
    "tc3get": ("ins-running2", "lhins-running2"),
    "legacy": ("ins-running3", "lhins-running3"),
    "legacyget": ("ins-running4", "lhins-running4"),
}


def instances(mode):
    """Account 3's configured instances (run.sh): each case's answer and code, and the
    state a ForceStop or OFFLINE bind leaves, seen by the next call."""
    cvm_running, running = RUNNING[mode]
    c = client("cvm", mode, ID3, KEY3)
    key = call(c, "cvm", "CreateKeyPair", {"KeyName": f"inst_{mode}", "ProjectId": 0})["KeyPair"]["KeyId"]

    def bind(inst, force=False):
        return {"KeyIds": [key], "InstanceIds": [inst], "ForceStop": force}
    cvm_cases = [
        ("AssociateInstancesKeyPairs", bind("ins-unknown1"), "InvalidInstanceId.NotFound"),
        ("AssociateInstancesKeyPairs", bind("ins-windows1", True), "UnsupportedOperation.InstanceOsWindows"),
        ("AssociateInstancesKeyPairs", bind("ins-pending1", True), "UnsupportedOperation.InstanceStatePending"),
        ("AssociateInstancesKeyPairs", bind("ins-stoping1", True), "UnsupportedOperation.InstanceStateStopping"),
        ("AssociateInstancesKeyPairs", bind("ins-reboot01"), "UnsupportedOperation.InstanceStateRebooting"),
        ("AssociateInstancesKeyPairs", bind(cvm_running), "UnsupportedOperation.InstanceStateRunning"),
        ("AssociateInstancesKeyPairs", bind("ins-busy0001", True), "MutexOperation.TaskRunning"),
        ("DisassociateInstancesKeyPairs", bind("ins-busy0001"), "MutexOperation.TaskRunning"),
        ("AssociateInstancesKeyPairs", bind("ins-nocharge"), "UnsupportedOperation.StoppedModeStopCharging"),
        ("AssociateInstancesKeyPairs", bind("ins-rescue01", True), "UnsupportedOperation.InstanceStateRescueMode"),
        ("AssociateInstancesKeyPairs", bind("ins-stopped1"), "OK"),
        ("AssociateInstancesKeyPairs", bind(cvm_running, True), "OK"),
        # The ForceStop left it STOPPED: without the flag it now binds and unbinds.
        ("DisassociateInstancesKeyPairs", bind(cvm_running), "OK"),
        ("AssociateInstancesKeyPairs", bind(cvm_running), "OK"),
    ]
    for action, params, want in cvm_cases:
        got = answer(c, "cvm", action, params)
        check(got == want, f"cvm {mode} {action} {params}: want {want}, got {got}")
    page = call(c, "cvm", "DescribeKeyPairs", {"KeyIds": [key]})
    bound = page["KeyPairSet"][0]["AssociatedInstanceIds"]
    check(bound == sorted(["ins-stopped1", cvm_running]), f"bindings shown as before: {bound}")
    # A new key on an instance replaces its keys: the first key keeps only its other one.
    other = call(c, "cvm", "CreateKeyPair", {"KeyName": f"inst2_{mode}", "ProjectId": 0})["KeyPair"]["KeyId"]
    call(c, "cvm", "AssociateInstancesKeyPairs", {"KeyIds": [other], "InstanceIds": ["ins-stopped1"]})
    page = call(c, "cvm", "DescribeKeyPairs", {"KeyIds": [key, other]})
    bound = {kp["KeyId"]: kp["AssociatedInstanceIds"] for kp in page["KeyPairSet"]}
    check(bound == {key: [cvm_running], other: ["ins-stopped1"]}, f"the new key replaced the old on ins-stopped1: {bound}")

    lc = client("lighthouse", mode, ID3, KEY3)
    lkey = call(lc, "lighthouse", "CreateKeyPair", {"KeyName": f"inst_{mode}"})["KeyPair"]["KeyId"]

    def lbind(inst, **extra):
        return dict({"KeyIds": [lkey], "InstanceIds": [inst]}, **extra)
    lh_cases = [
        ("AssociateInstancesKeyPairs", lbind("lhins-unknown1"), "ResourceNotFound.InstanceIdNotFound"),
        ("AssociateInstancesKeyPairs", lbind("lhins-windows1"), "UnsupportedOperation.WindowsNotAllowToAssociateKeyPair"),
        ("AssociateInstancesKeyPairs", lbind("lhins-pending1"), "OperationDenied.InstanceCreating"),
        ("AssociateInstancesKeyPairs", lbind("lhins-unfinish", AssociateType="ONLINE"), "UnsupportedOperation.LatestOperationUnfinished"),
        ("AssociateInstancesKeyPairs", lbind("lhins-busy0001"), "OperationDenied.InstanceOperationInProgress"),
        ("AssociateInstancesKeyPairs", lbind(running, AssociateType="ONLINE", Username="ubuntu"), "OK"),
        ("DisassociateInstancesKeyPairs", lbind(running, Username="root"), "UnsupportedOperation.KeyPairUnbindUsernameMismatch"),
        ("DisassociateInstancesKeyPairs", lbind(running, Username="ubuntu", DisassociateType="ONLINE"), "OK"),
        # Without a type the instance is stopped first (OFFLINE); the next ONLINE bind of a
        # stopped instance also succeeds.
        ("AssociateInstancesKeyPairs", lbind(running), "OK"),
        ("DisassociateInstancesKeyPairs", lbind(running, DisassociateType="ONLINE"), "OK"),
    ]
    for action, params, want in lh_cases:
        got = answer(lc, "lighthouse", action, params)
        check(got == want, f"lighthouse {mode} {action} {params}: want {want}, got {got}")


def main():
    for mode in MODES:
        instances(mode)
        print(f"ok instances {mode}")
    for product in PRODUCTS:
        for mode in MODES:
            every_action(product, mode)
            error_codes(product, mode)
            print(f"ok {product} {mode}")
    via_tccli()
    print("ok tccli")
    print(f"python e2e: {checks} checks passed")


if __name__ == "__main__":
    main()
