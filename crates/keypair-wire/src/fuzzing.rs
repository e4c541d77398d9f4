//! The fuzz targets' entry points (crates/keypair-fuzz), also run by the corpus replay
//! test: each takes arbitrary bytes and must never panic; where an input is accepted it
//! checks a property of the result.

use crate::{actions, auth, params};
use keypair_core::{Action, Product, PublicKey, Query};

/// The OpenSSH public-key parser: whatever parses, its normalised form parses back to
/// the same key.
pub fn openssh(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = PublicKey::parse_openssh(text) {
            let again =
                PublicKey::parse_openssh(key.as_openssh()).expect("a normalised key parses again");
            assert_eq!(again, key, "normalising is idempotent");
        }
    }
}

/// A JSON request body, decoded for every action of both products.
pub fn json_request(data: &[u8]) {
    if let Ok(p) = params::from_json(data) {
        decode_everywhere(&p);
    }
}

/// A flattened form or query string, decoded for every action of both products.
pub fn form_request(data: &[u8]) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    if let Ok(p) = params::unflatten(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        decode_everywhere(&p);
    }
}

/// The TC3 `Authorization` header parser.
pub fn authorization(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = auth::parse_tc3_authorization(text) {
            assert_eq!(parsed.signature.len(), 64);
            assert!(parsed.signed_headers.contains(&"host"));
        }
    }
}

fn decode_everywhere(p: &params::Params) {
    for product in Product::ALL {
        for action in Action::ALL {
            if Action::from_name(action.name(), product).is_none() {
                continue;
            }
            if let Ok(actions::WireRequest::Describe(d)) =
                actions::decode(product, action, p.clone())
            {
                let _ = Query::parse(
                    product,
                    d.key_ids.as_deref(),
                    d.filters.as_deref(),
                    d.offset,
                    d.limit,
                );
            }
        }
    }
}
