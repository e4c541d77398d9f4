"""Client behaviour that only a faulty server exercises, with the official Python SDK:
its retryer against injected rate limits (and a known defect of it), its timeout
against an injected delay, its network error on a dropped connection, and a write
whose answer was lost.

Run as test_example.py says; these need nothing else.
"""

import json
import threading

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.retry import StandardRetryer
from tencentcloud.cvm.v20170312 import models as cvm

# The SDK retries RequestLimitExceeded and network errors (StandardRetryer.should_retry).
RETRYABLE = {"RequestLimitExceeded", "ClientNetworkError", "ServerNetworkError"}


def create_request(name):
    req = cvm.CreateKeyPairRequest()
    req.from_json_string(json.dumps({"KeyName": name, "ProjectId": 0}))
    return req


def no_backoff(n):
    """The retryer's wait before attempt n + 1: none, so the suite stays fast."""
    return 0


@pytest.mark.xfail(
    strict=True,
    reason="known defect of tencentcloud-sdk-python (3.1.195): StandardRetryer.send_request "
           "(tencentcloud/common/retry.py, and retry_async.py) never clears its error, so it "
           "raises an earlier attempt's error even after a later attempt succeeded",
)
def test_the_sdks_standard_retryer_recovers_from_two_rate_limits(keypaird):
    keypaird.fail_next("CreateKeyPair", "RequestLimitExceeded", times=2)
    client = keypaird.cvm(retryer=StandardRetryer(max_attempts=3, backoff_fn=no_backoff))
    raised = None
    with keypaird.journal() as journal:
        try:
            client.CreateKeyPair(create_request("retried"))
        except TencentCloudSDKException as e:
            raised = e
    # What the server saw holds either way: two refusals, then the create.
    assert [e["Code"] for e in journal.entries()] == ["RequestLimitExceeded", "RequestLimitExceeded", "OK"]
    assert raised is None, f"the SDK raised {raised.get_code()} although its third attempt succeeded"


def create_with_retry(client, req, attempts=3):
    """A retry written as the SDK's is meant to work: the last attempt's outcome counts."""
    for attempt in range(attempts):
        try:
            return client.CreateKeyPair(req)
        except TencentCloudSDKException as e:
            if e.get_code() not in RETRYABLE or attempt == attempts - 1:
                raise


def test_a_retry_written_correctly_gets_through_two_rate_limits(keypaird):
    keypaird.fail_next("CreateKeyPair", "RequestLimitExceeded", times=2)
    created = create_with_retry(keypaird.cvm(), create_request("retried"))
    assert created.KeyPair.KeyName == "retried"
    assert keypaird.faults() == [], "both failures were spent"


def test_a_delay_over_the_clients_timeout_raises_its_timeout_and_others_are_served(keypaird):
    keypaird.delay_next("DescribeKeyPairs", seconds=3)
    errors = []

    def describe_with_a_short_timeout():
        try:
            keypaird.cvm(timeout=1).DescribeKeyPairs(cvm.DescribeKeyPairsRequest())
        except TencentCloudSDKException as e:
            errors.append(e)

    slow = threading.Thread(target=describe_with_a_short_timeout)
    slow.start()
    # While that call waits, another client is served as usual.
    keypaird.cvm(secret_id="AKIDotherclient").CreateKeyPair(create_request("meanwhile"))
    slow.join()
    assert len(errors) == 1 and errors[0].get_code() == "ClientNetworkError", errors
    assert "timed out" in errors[0].get_message().lower()


def test_a_dropped_connection_gives_the_sdk_its_network_error(keypaird):
    keypaird.drop_next("CreateKeyPair")
    with pytest.raises(TencentCloudSDKException) as raised:
        keypaird.cvm().CreateKeyPair(create_request("dropped"))
    assert raised.value.get_code() == "ClientNetworkError"
    page = keypaird.cvm().DescribeKeyPairs(cvm.DescribeKeyPairsRequest())
    assert page.TotalCount == 0, "dropped before the call: nothing was stored"


def test_a_lost_answer_after_the_store_makes_the_retry_a_duplicate(keypaird):
    keypaird.fail_next("CreateKeyPair", "InternalServerError", product="cvm", after=True)
    with pytest.raises(TencentCloudSDKException) as lost:
        keypaird.cvm().CreateKeyPair(create_request("maybe"))
    assert lost.value.get_code() == "InternalServerError"
    with pytest.raises(TencentCloudSDKException) as retry:
        keypaird.cvm().CreateKeyPair(create_request("maybe"))
    assert retry.value.get_code() == "InvalidKeyPairName.Duplicate", "the first create was stored"


def test_a_rule_needs_a_code_the_product_defines(keypaird):
    with pytest.raises(RuntimeError, match="does not define"):
        keypaird.fail_next("CreateKeyPair", "KeyPairFactoryOnFire", product="cvm")


def test_a_seed_repeats_the_answers(keypaird):
    def create_twice():
        keypaird.seed(42)
        keypaird.reset()
        first = keypaird.cvm().CreateKeyPair(create_request("seeded"))
        return first.KeyPair.KeyId, first.KeyPair.PublicKey, first.KeyPair.CreatedTime, first.RequestId

    assert create_twice() == create_twice()
