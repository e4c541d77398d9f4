//! Hostile input: a table of malformed and abusive requests, each answered with its
//! documented error code (docs/api.md), after which the server still answers and no
//! stored key pair has changed.

use crate::common::*;
use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};

/// How a row's request is made.
enum Send {
    /// Signed TC3 POST of this JSON.
    Json(&'static str, &'static str, Value),
    /// Signed TC3 POST of these bytes with this content type.
    Raw(&'static str, &'static str, Vec<u8>, &'static str),
    /// A signed request whose headers are then changed.
    Edit(&'static str, &'static str, fn(&mut Request<Body>)),
    /// A legacy form POST with these business parameters and nonce.
    Legacy(&'static str, &'static str, Vec<(&'static str, String)>),
    /// Built by hand.
    Plain(fn() -> Request<Body>),
}

fn many(n: usize, f: impl Fn(usize) -> Value) -> Value {
    Value::Array((0..n).map(f).collect())
}

fn rows() -> Vec<(String, Send, &'static str)> {
    use Send::*;
    let mut rows: Vec<(String, Send, &'static str)> = Vec::new();
    let mut add =
        |what: &str, send: Send, code: &'static str| rows.push((what.to_owned(), send, code));
    let d = "DescribeKeyPairs";
    // Numbers and types.
    add(
        "Limit as text",
        Json(CVM, d, json!({"Limit": "many"})),
        "InvalidParameter",
    );
    add(
        "Limit as float",
        Json(CVM, d, json!({"Limit": 1.5})),
        "InvalidParameter",
    );
    add(
        "Limit as bool",
        Json(CVM, d, json!({"Limit": true})),
        "InvalidParameter",
    );
    add(
        "Limit as list",
        Json(CVM, d, json!({"Limit": [1]})),
        "InvalidParameter",
    );
    add(
        "Limit as object",
        Json(CVM, d, json!({"Limit": {"a": 1}})),
        "InvalidParameter",
    );
    add(
        "Limit 0",
        Json(CVM, d, json!({"Limit": 0})),
        "InvalidParameterValueLimit",
    );
    add(
        "Limit 10^12",
        Json(CVM, d, json!({"Limit": 1_000_000_000_000i64})),
        "InvalidParameterValueLimit",
    );
    add(
        "Limit -1",
        Json(CVM, d, json!({"Limit": -1})),
        "InvalidParameterValueLimit",
    );
    add(
        "Limit 2^64-1",
        Json(CVM, d, json!({"Limit": u64::MAX})),
        "InvalidParameter",
    );
    add(
        "Limit 1e300",
        Json(CVM, d, json!({"Limit": 1e300})),
        "InvalidParameter",
    );
    add(
        "Lighthouse Limit 101",
        Json(LH, d, json!({"Limit": 101})),
        "InvalidParameterValue.OutOfRange",
    );
    add(
        "Offset -1",
        Json(CVM, d, json!({"Offset": -1})),
        "InvalidParameterValueOffset",
    );
    add(
        "Lighthouse Offset -1",
        Json(LH, d, json!({"Offset": -1})),
        "InvalidParameterValue.Negative",
    );
    add(
        "Offset 10^18 is an empty page",
        Json(CVM, d, json!({"Offset": 1_000_000_000_000_000_000i64})),
        "OK",
    );
    add(
        "Offset as text",
        Json(CVM, d, json!({"Offset": "x"})),
        "InvalidParameter",
    );
    // Lists.
    add(
        "10,000 KeyIds",
        Json(
            CVM,
            d,
            json!({"KeyIds": many(10_000, |i| json!(format!("skey-{i:08}")))}),
        ),
        "InvalidParameterValue.LimitExceeded",
    );
    add(
        "KeyIds of numbers",
        Json(CVM, d, json!({"KeyIds": [123]})),
        "InvalidParameter",
    );
    add(
        "KeyIds as text",
        Json(CVM, d, json!({"KeyIds": "skey-11112222"})),
        "InvalidParameter",
    );
    add(
        "KeyIds with null",
        Json(CVM, d, json!({"KeyIds": [null]})),
        "InvalidParameter",
    );
    add(
        "empty KeyId",
        Json(CVM, d, json!({"KeyIds": [""]})),
        "InvalidKeyPairId.Malformed",
    );
    add(
        "Cyrillic look-alike KeyId",
        Json(CVM, d, json!({"KeyIds": ["skey-\u{430}bcdefgh"]})),
        "InvalidKeyPairId.Malformed",
    );
    add(
        "upper-case KeyId",
        Json(CVM, d, json!({"KeyIds": ["SKEY-ABCDEFGH"]})),
        "InvalidKeyPairId.Malformed",
    );
    add(
        "KeyId with NUL",
        Json(CVM, d, json!({"KeyIds": ["skey-abcd\u{0}fgh"]})),
        "InvalidKeyPairId.Malformed",
    );
    add(
        "10,000 Filters",
        Json(
            CVM,
            d,
            json!({"Filters": many(10_000, |_| json!({"Name": "key-name", "Values": ["a"]}))}),
        ),
        "InvalidParameterValue.LimitExceeded",
    );
    add(
        "Filters as object",
        Json(CVM, d, json!({"Filters": {"Name": "key-name"}})),
        "InvalidParameter",
    );
    add(
        "Filter without Name",
        Json(CVM, d, json!({"Filters": [{"Values": ["a"]}]})),
        "MissingParameter",
    );
    add(
        "Filter without Values",
        Json(CVM, d, json!({"Filters": [{"Name": "key-name"}]})),
        "MissingParameter",
    );
    add(
        "Filter with 10,000 values",
        Json(
            CVM,
            d,
            json!({"Filters": [{"Name": "key-name", "Values": many(10_000, |i| json!(i.to_string()))}]}),
        ),
        "InvalidFilterValue.LimitExceeded",
    );
    add(
        "Filter with empty Values",
        Json(
            CVM,
            d,
            json!({"Filters": [{"Name": "key-name", "Values": []}]}),
        ),
        "InvalidFilter",
    );
    add(
        "unknown filter",
        Json(
            CVM,
            d,
            json!({"Filters": [{"Name": "owner", "Values": ["a"]}]}),
        ),
        "InvalidFilter",
    );
    add(
        "empty tag filter key",
        Json(
            CVM,
            d,
            json!({"Filters": [{"Name": "tag:", "Values": ["a"]}]}),
        ),
        "InvalidFilter",
    );
    add(
        "project-id not a number",
        Json(
            CVM,
            d,
            json!({"Filters": [{"Name": "project-id", "Values": ["x"]}]}),
        ),
        "InvalidFilter",
    );
    add(
        "Lighthouse project-id",
        Json(
            LH,
            d,
            json!({"Filters": [{"Name": "project-id", "Values": ["0"]}]}),
        ),
        "InvalidParameter.InvalidFilter",
    );
    add(
        "filter member unknown",
        Json(
            CVM,
            d,
            json!({"Filters": [{"Name": "key-name", "Values": ["a"], "Op": "like"}]}),
        ),
        "UnknownParameter",
    );
    add(
        "KeyIds and Filters",
        Json(
            LH,
            d,
            json!({"KeyIds": ["lhkp-11112222"], "Filters": [{"Name": "key-name", "Values": ["a"]}]}),
        ),
        "InvalidParameter.ParameterConflict",
    );
    // Names.
    let name_cases: [(&str, &'static str); 16] = [
        ("", "InvalidKeyPairNameEmpty"),
        (" ", "InvalidKeyPairNameIncludeIllegalChar"),
        ("a b", "InvalidKeyPairNameIncludeIllegalChar"),
        ("a\u{0}b", "InvalidKeyPairNameIncludeIllegalChar"),
        ("a\nb", "InvalidKeyPairNameIncludeIllegalChar"),
        ("a\u{7f}", "InvalidKeyPairNameIncludeIllegalChar"),
        ("\u{ff41}\u{ff42}", "InvalidKeyPairNameIncludeIllegalChar"),
        ("\u{430}bc", "InvalidKeyPairNameIncludeIllegalChar"),
        ("key\u{1f600}", "InvalidKeyPairNameIncludeIllegalChar"),
        ("a\u{200b}b", "InvalidKeyPairNameIncludeIllegalChar"),
        ("<script>", "InvalidKeyPairNameIncludeIllegalChar"),
        ("../../etc/passwd", "InvalidKeyPairNameIncludeIllegalChar"),
        (
            "x';DROP TABLE key_pairs;--",
            "InvalidKeyPairNameIncludeIllegalChar",
        ),
        ("%s%n", "InvalidKeyPairNameIncludeIllegalChar"),
        ("abcdefghijklmnopqrstuvwxyz", "InvalidKeyPairNameTooLong"),
        ("", "InvalidKeyPairNameEmpty"),
    ];
    for (i, (name, code)) in name_cases.into_iter().enumerate() {
        add(
            &format!("CVM name case {i} {name:?}"),
            Json(
                CVM,
                "CreateKeyPair",
                json!({"KeyName": name, "ProjectId": 0}),
            ),
            code,
        );
        let lh = match code {
            "InvalidKeyPairNameEmpty" => "InvalidParameterValue.InvalidKeyPairNameEmpty",
            "InvalidKeyPairNameTooLong" => "InvalidParameterValue.InvalidKeyPairNameTooLong",
            _ => "InvalidParameterValue.InvalidKeyPairNameIncludeIllegalChar",
        };
        add(
            &format!("Lighthouse name case {i}"),
            Json(LH, "CreateKeyPair", json!({"KeyName": name})),
            lh,
        );
    }
    add(
        "10,000-character name",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "x".repeat(10_000), "ProjectId": 0}),
        ),
        "InvalidKeyPairNameTooLong",
    );
    add(
        "name as number",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": 123, "ProjectId": 0}),
        ),
        "InvalidParameter",
    );
    add(
        "name null",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": null, "ProjectId": 0}),
        ),
        "MissingParameter",
    );
    add(
        "ProjectId text",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "p", "ProjectId": "abc"}),
        ),
        "InvalidParameter",
    );
    add(
        "ProjectId negative",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "p", "ProjectId": -5}),
        ),
        "InvalidProjectId.NotFound",
    );
    add(
        "ProjectId 10^30",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "p", "ProjectId": 1e30}),
        ),
        "InvalidParameter",
    );
    add(
        "ProjectId unknown",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "p", "ProjectId": 99_999}),
        ),
        "InvalidProjectId.NotFound",
    );
    // Public keys.
    let seed_data = SEED_KEY.split(' ').nth(1).unwrap_or_default();
    let key_cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("algorithm only", "ssh-rsa".into()),
        ("bad base64", "ssh-rsa !!!!".into()),
        ("truncated", format!("ssh-rsa {}", &seed_data[..64])),
        ("100 KB of garbage", "A".repeat(100_000)),
        (
            "PEM",
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----".into(),
        ),
        (
            "RFC 4716",
            "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----".into(),
        ),
        ("DSA", format!("ssh-dss {seed_data}")),
        (
            "ed25519",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti"
                .into(),
        ),
        ("options prefix", format!("no-pty {SEED_KEY}")),
        ("two keys", format!("{SEED_KEY} {SEED_KEY}")),
        ("two lines", format!("{SEED_KEY}\n{SEED_KEY}")),
        (
            "NUL inside",
            format!("ssh-rsa {}\u{0}{}", &seed_data[..10], &seed_data[10..]),
        ),
        ("1,000 lines", vec![SEED_KEY; 1000].join("\n")),
    ];
    for (what, key) in key_cases {
        add(
            &format!("public key: {what}"),
            Json(
                CVM,
                "ImportKeyPair",
                json!({"KeyName": "k", "ProjectId": 0, "PublicKey": key}),
            ),
            "InvalidPublicKey.Malformed",
        );
    }
    add(
        "public key as number",
        Json(
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "k", "ProjectId": 0, "PublicKey": 7}),
        ),
        "InvalidParameter",
    );
    add(
        "Lighthouse malformed key",
        Json(
            LH,
            "ImportKeyPair",
            json!({"KeyName": "k", "PublicKey": "ssh-rsa AAAA"}),
        ),
        "InvalidParameterValue.KeyPairPublicKeyMalformed",
    );
    // Tags.
    let tag_spec = |tags: Value| json!({"KeyName": "t", "ProjectId": 0, "TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]});
    add(
        "tag resource type",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "t", "ProjectId": 0, "TagSpecification": [{"ResourceType": "instance", "Tags": []}]}),
        ),
        "InvalidParameterValue",
    );
    add(
        "51 tags",
        Json(
            CVM,
            "CreateKeyPair",
            tag_spec(many(51, |i| json!({"Key": format!("k{i}"), "Value": "v"}))),
        ),
        "LimitExceeded.TagResourceQuota",
    );
    add(
        "11 Lighthouse tags",
        Json(
            LH,
            "CreateKeyPair",
            json!({"KeyName": "t", "Tags": many(11, |i| json!({"Key": format!("k{i}"), "Value": "v"}))}),
        ),
        "InvalidParameterValue.LimitExceeded",
    );
    add(
        "empty tag key",
        Json(
            CVM,
            "CreateKeyPair",
            tag_spec(json!([{"Key": "", "Value": "v"}])),
        ),
        "FailedOperation.IllegalTagKey",
    );
    add(
        "reserved tag key",
        Json(
            CVM,
            "CreateKeyPair",
            tag_spec(json!([{"Key": "qcloud:owner", "Value": "v"}])),
        ),
        "FailedOperation.TagKeyReserved",
    );
    add(
        "300-character tag value",
        Json(
            CVM,
            "CreateKeyPair",
            tag_spec(json!([{"Key": "k", "Value": "v".repeat(300)}])),
        ),
        "FailedOperation.IllegalTagValue",
    );
    add(
        "repeated tag key",
        Json(
            CVM,
            "CreateKeyPair",
            tag_spec(json!([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])),
        ),
        "InvalidParameterValue.DuplicateTags",
    );
    add(
        "tag with control character",
        Json(
            CVM,
            "CreateKeyPair",
            tag_spec(json!([{"Key": "k\u{1b}[31m", "Value": "v"}])),
        ),
        "FailedOperation.IllegalTagKey",
    );
    add(
        "TagSpecification as text",
        Json(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "t", "ProjectId": 0, "TagSpecification": "env=prod"}),
        ),
        "InvalidParameter",
    );
    add(
        "tag without Value",
        Json(CVM, "CreateKeyPair", tag_spec(json!([{"Key": "k"}]))),
        "MissingParameter",
    );
    // JSON itself.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    add(
        "10,000-deep nesting",
        Raw(
            CVM,
            d,
            format!("{{\"Limit\": {deep}}}").into_bytes(),
            "application/json",
        ),
        "InvalidParameter",
    );
    add(
        "duplicate keys",
        Raw(
            CVM,
            d,
            br#"{"Limit": 1, "Limit": 100}"#.to_vec(),
            "application/json",
        ),
        "InvalidParameter",
    );
    add(
        "duplicate nested keys",
        Raw(
            CVM,
            d,
            br#"{"Filters": [{"Name": "key-name", "Name": "tag-key", "Values": ["a"]}]}"#.to_vec(),
            "application/json",
        ),
        "InvalidParameter",
    );
    for (what, body) in [
        ("null", "null"),
        ("list", "[]"),
        ("string", "\"x\""),
        ("number", "123"),
        ("truncated", "{\"Limit\": "),
        ("trailing garbage", "{}x"),
        ("single quotes", "{'Limit': 1}"),
    ] {
        add(
            &format!("body {what}"),
            Raw(CVM, d, body.as_bytes().to_vec(), "application/json"),
            "InvalidParameter",
        );
    }
    add(
        "invalid UTF-8",
        Raw(
            CVM,
            d,
            b"{\"KeyIds\": [\"\xff\xfe\"]}".to_vec(),
            "application/json",
        ),
        "InvalidParameter",
    );
    add(
        "byte-order mark",
        Raw(CVM, d, b"\xef\xbb\xbf{}".to_vec(), "application/json"),
        "InvalidParameter",
    );
    add(
        "unknown parameter",
        Json(CVM, d, json!({"Foo": 1})),
        "UnknownParameter",
    );
    add(
        "2 MB body",
        Raw(CVM, d, vec![b' '; 2 << 20], "application/json"),
        "RequestSizeLimitExceeded",
    );
    add(
        "text/plain body",
        Raw(CVM, d, b"{}".to_vec(), "text/plain"),
        "InvalidParameter",
    );
    add(
        "multipart body",
        Raw(CVM, d, b"--x--".to_vec(), "multipart/form-data; boundary=x"),
        "InvalidParameter",
    );
    // Protocol and authentication.
    add(
        "PUT",
        Plain(|| Request::put("/").body(Body::empty()).unwrap()),
        "UnsupportedProtocol",
    );
    add(
        "DELETE",
        Plain(|| Request::delete("/").body(Body::empty()).unwrap()),
        "UnsupportedProtocol",
    );
    add(
        "PATCH",
        Plain(|| Request::patch("/").body(Body::empty()).unwrap()),
        "UnsupportedProtocol",
    );
    add(
        "other path",
        Plain(|| Request::get("/v2/keys").body(Body::empty()).unwrap()),
        "UnsupportedProtocol",
    );
    add(
        "no signature at all",
        Plain(|| {
            Request::post("/")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap()
        }),
        "MissingParameter",
    );
    add(
        "no Action",
        Edit(CVM, d, |r| drop(r.headers_mut().remove("x-tc-action"))),
        "MissingParameter",
    );
    add(
        "no Version",
        Edit(CVM, d, |r| drop(r.headers_mut().remove("x-tc-version"))),
        "MissingParameter",
    );
    add(
        "no Timestamp",
        Edit(CVM, d, |r| drop(r.headers_mut().remove("x-tc-timestamp"))),
        "MissingParameter",
    );
    add(
        "unknown Version",
        Json("2099-01-01", d, json!({})),
        "NoSuchVersion",
    );
    add(
        "unknown Action",
        Json(CVM, "RunInstances", json!({})),
        "InvalidAction",
    );
    add(
        "lower-case Action",
        Json(CVM, "describekeypairs", json!({})),
        "InvalidAction",
    );
    add(
        "Timestamp not a number",
        Edit(CVM, d, |r| {
            drop(
                r.headers_mut()
                    .insert("x-tc-timestamp", "soon".parse().unwrap()),
            )
        }),
        "InvalidParameter",
    );
    add(
        "Timestamp an hour old",
        Edit(CVM, d, |r| {
            drop(
                r.headers_mut()
                    .insert("x-tc-timestamp", (NOW - 3600).to_string().parse().unwrap()),
            )
        }),
        "AuthFailure.SignatureExpire",
    );
    add(
        "Timestamp an hour ahead",
        Edit(CVM, d, |r| {
            drop(
                r.headers_mut()
                    .insert("x-tc-timestamp", (NOW + 3600).to_string().parse().unwrap()),
            )
        }),
        "AuthFailure.SignatureExpire",
    );
    add(
        "Authorization garbage",
        Edit(CVM, d, |r| {
            drop(
                r.headers_mut()
                    .insert("authorization", "garbage".parse().unwrap()),
            )
        }),
        "AuthFailure.InvalidAuthorization",
    );
    add(
        "Authorization without Signature",
        Edit(CVM, d, |r| {
            let v = r.headers()["authorization"]
                .to_str()
                .unwrap()
                .split(", Signature")
                .next()
                .unwrap()
                .to_owned();
            r.headers_mut().insert("authorization", v.parse().unwrap());
        }),
        "AuthFailure.InvalidAuthorization",
    );
    add(
        "Authorization other signature",
        Edit(CVM, d, |r| {
            let v = r.headers()["authorization"].to_str().unwrap();
            let forged = format!("{}{}", &v[..v.len() - 64], "0".repeat(64));
            r.headers_mut()
                .insert("authorization", forged.parse().unwrap());
        }),
        "AuthFailure.SignatureFailure",
    );
    add(
        "unknown SecretId",
        Edit(CVM, d, |r| {
            let v = r.headers()["authorization"]
                .to_str()
                .unwrap()
                .replace(ID, "AKIDnobody");
            r.headers_mut().insert("authorization", v.parse().unwrap());
        }),
        "AuthFailure.SecretIdNotFound",
    );
    add(
        "missing Host",
        Edit(CVM, d, |r| drop(r.headers_mut().remove("host"))),
        "AuthFailure.SignatureFailure",
    );
    add(
        "Host changed",
        Edit(CVM, d, |r| {
            drop(
                r.headers_mut()
                    .insert("host", "evil.example:80".parse().unwrap()),
            )
        }),
        "AuthFailure.SignatureFailure",
    );
    add(
        "Host of the other product",
        Edit(CVM, d, |r| {
            drop(
                r.headers_mut()
                    .insert("host", "lighthouse.tencentcloudapi.com".parse().unwrap()),
            )
        }),
        "AuthFailure.SignatureFailure",
    );
    add(
        "temporary-credential Token",
        Edit(CVM, d, |r| {
            drop(r.headers_mut().insert("x-tc-token", "t".parse().unwrap()))
        }),
        "AuthFailure.TokenFailure",
    );
    add(
        "legacy without Signature",
        Plain(|| {
            Request::get(
                "/?Action=DescribeKeyPairs&Version=2017-03-12&SecretId=x&Timestamp=1&Nonce=1",
            )
            .header("host", HOST)
            .body(Body::empty())
            .unwrap()
        }),
        "MissingParameter",
    );
    add(
        "legacy Nonce not a number",
        Legacy(CVM, d, vec![]),
        "InvalidParameter",
    );
    add(
        "legacy repeated Action",
        Plain(|| {
            Request::get("/?Action=DescribeKeyPairs&Action=DeleteKeyPairs&Version=2017-03-12")
                .header("host", HOST)
                .body(Body::empty())
                .unwrap()
        }),
        "InvalidParameter",
    );
    add(
        "flattened gap",
        Legacy(CVM, d, vec![("KeyIds.1", "skey-11112222".into())]),
        "InvalidParameter",
    );
    add(
        "flattened conflict",
        Legacy(
            CVM,
            d,
            vec![("KeyIds", "x".into()), ("KeyIds.0", "y".into())],
        ),
        "InvalidParameter",
    );
    add(
        "flattened too deep",
        Legacy(CVM, d, vec![("a.b.c.d.e.f.g", "x".into())]),
        "InvalidParameter",
    );
    add(
        "flattened huge index",
        Legacy(CVM, d, vec![("KeyIds.99999999", "x".into())]),
        "InvalidParameter",
    );
    // Other actions.
    add(
        "description of 61 characters",
        Json(
            CVM,
            "ModifyKeyPairAttribute",
            json!({"KeyId": "skey-11112222", "Description": "d".repeat(61)}),
        ),
        "InvalidParameterValue",
    );
    add(
        "Modify with nothing",
        Json(
            CVM,
            "ModifyKeyPairAttribute",
            json!({"KeyId": "skey-11112222"}),
        ),
        "MissingParameter",
    );
    add(
        "101 deletes",
        Json(
            CVM,
            "DeleteKeyPairs",
            json!({"KeyIds": many(101, |i| json!(format!("skey-{i:08}")))}),
        ),
        "InvalidParameterValue.LimitExceeded",
    );
    add(
        "11 Lighthouse deletes",
        Json(
            LH,
            "DeleteKeyPairs",
            json!({"KeyIds": many(11, |i| json!(format!("lhkp-{i:08}")))}),
        ),
        "InvalidParameterValue.LimitExceeded",
    );
    add(
        "empty delete",
        Json(CVM, "DeleteKeyPairs", json!({"KeyIds": []})),
        "MissingParameter",
    );
    add(
        "101 instances",
        Json(
            CVM,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": ["skey-11112222"], "InstanceIds": many(101, |i| json!(format!("ins-{i:08}")))}),
        ),
        "InvalidParameterValue.LimitExceeded",
    );
    add(
        "malformed instance",
        Json(
            CVM,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": ["skey-11112222"], "InstanceIds": ["i-123"]}),
        ),
        "InvalidInstanceId.Malformed",
    );
    add(
        "AssociateType sideways",
        Json(
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": ["lhkp-11112222"], "InstanceIds": ["lhins-11112222"], "AssociateType": "SIDEWAYS"}),
        ),
        "InvalidParameterValue",
    );
    add(
        "bad Username",
        Json(
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": ["lhkp-11112222"], "InstanceIds": ["lhins-11112222"], "Username": "Root;rm"}),
        ),
        "InvalidParameterValue",
    );
    add(
        "ForceStop maybe",
        Json(
            CVM,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": ["skey-11112222"], "InstanceIds": ["ins-11112222"], "ForceStop": "maybe"}),
        ),
        "InvalidParameter",
    );
    add(
        "repeated Lighthouse ids",
        Json(
            LH,
            "DeleteKeyPairs",
            json!({"KeyIds": ["lhkp-11112222", "lhkp-11112222"]}),
        ),
        "InvalidParameterValue.Duplicated",
    );
    rows
}

/// Every row of the table, against `w`.
pub async fn every_hostile_request_gets_its_documented_code_and_changes_nothing(w: Wire) {
    // Data that must survive.
    let tags = json!([{"ResourceType": "keypair", "Tags": [{"Key": "env", "Value": "prod"}]}]);
    let r = w.call(CVM, "ImportKeyPair", json!({"KeyName": "keep", "ProjectId": 0, "PublicKey": SEED_KEY, "TagSpecification": tags})).await;
    assert_eq!(code(&r), "OK");
    assert_eq!(
        code(
            &w.call(
                LH,
                "ImportKeyPair",
                json!({"KeyName": "keep", "PublicKey": SEED_KEY})
            )
            .await
        ),
        "OK"
    );
    let before = snapshot(&w).await;
    let rows = rows();
    assert!(rows.len() >= 100, "the table has {} rows", rows.len());
    let mut failures = Vec::new();
    for (i, (what, send, want)) in rows.into_iter().enumerate() {
        let req = match send {
            Send::Json(v, a, body) => w.post((ID, KEY), v, a, &body),
            Send::Raw(v, a, body, ct) => w.post_raw(v, a, &body, ct),
            Send::Edit(v, a, edit) => {
                let mut r = w.post((ID, KEY), v, a, &json!({}));
                edit(&mut r);
                r
            }
            Send::Legacy(v, a, params) => {
                let refs: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                // Row "legacy Nonce not a number" sends a non-numeric nonce; the others a fresh one.
                let nonce = if what.contains("Nonce") {
                    "abc".to_owned()
                } else {
                    (1000 + i).to_string()
                };
                w.legacy(v, a, &refs, &nonce)
            }
            Send::Plain(make) => make(),
        };
        let got = w.send(req).await;
        if code(&got) != want {
            failures.push(format!("{what}: want {want}, got {got}"));
        }
    }
    assert_rows_pass(&failures);
    assert_eq!(snapshot(&w).await, before, "no stored data changed");
    assert_eq!(
        code(&w.call(CVM, "DescribeKeyPairs", json!({})).await),
        "OK",
        "still serving"
    );
}
