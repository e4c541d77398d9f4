"""An example suite using the keypaird fixtures with the official Python SDK.

Run: pip install ./clients/python/pytest-keypaird tencentcloud-sdk-python-cvm \
     tencentcloud-sdk-python-lighthouse && KEYPAIRD_BIN=target/debug/keypaird \
     pytest clients/python/pytest-keypaird/examples
"""

import json

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm
from tencentcloud.lighthouse.v20200324 import models as lh


def test_create_then_describe(keypaird):
    client = keypaird.cvm()
    req = cvm.CreateKeyPairRequest()
    req.from_json_string(json.dumps({"KeyName": "ci_key", "ProjectId": 0}))
    created = client.CreateKeyPair(req)
    assert created.KeyPair.PrivateKey.startswith("-----BEGIN RSA PRIVATE KEY-----")
    page = client.DescribeKeyPairs(cvm.DescribeKeyPairsRequest())
    assert page.TotalCount == 1


def test_each_test_starts_empty(keypaird):
    page = keypaird.cvm().DescribeKeyPairs(cvm.DescribeKeyPairsRequest())
    assert page.TotalCount == 0


def test_error_codes_come_back_as_the_sdk_raises_them(keypaird):
    req = lh.DeleteKeyPairsRequest()
    req.KeyIds = ["lhkp-00000000"]
    try:
        keypaird.lighthouse().DeleteKeyPairs(req)
        raise AssertionError("deleting a missing key pair succeeded")
    except TencentCloudSDKException as e:
        assert e.get_code() == "ResourceNotFound.KeyIdNotFound"


def test_reset_of_one_account_keeps_the_others(keypaird):
    for secret_id in (keypaird.secret_id, "AKIDotherteam"):
        req = cvm.CreateKeyPairRequest()
        req.from_json_string(json.dumps({"KeyName": "shared", "ProjectId": 0}))
        keypaird.cvm(secret_id).CreateKeyPair(req)
    assert keypaird.reset(account=keypaird.account) == 1
    assert keypaird.cvm().DescribeKeyPairs(cvm.DescribeKeyPairsRequest()).TotalCount == 0
    assert keypaird.cvm("AKIDotherteam").DescribeKeyPairs(cvm.DescribeKeyPairsRequest()).TotalCount == 1
    assert keypaird.ready()
