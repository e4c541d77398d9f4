//! Error codes: the ones the wire answers outside the domain table
//! ([`crate::error::public_codes`]), and the ones each product defines.
//!
//! - The constants below are API 3.0's common codes, for what goes wrong before or
//!   around an action (transport, signature, routing, decoding, admission). Every answer
//!   outside the table names its code from here, so [`COMMON`] is the whole set; a test
//!   in `keypair-http` checks that no answer spells a code of its own, and that each one
//!   here is on API 3.0's common list.
//! - [`is_defined`] says whether a product defines a code: its `errorcodes.py` in the
//!   official Python SDK, or the common list (`data/*.txt`, copied from the SDK and the
//!   products' error-code pages). A test suite's injected faults may only use those.

use keypair_core::Product;

/// The `Authorization` header (or a legacy signature's fields) is malformed, or names
/// another service.
pub const INVALID_AUTHORIZATION: &str = "AuthFailure.InvalidAuthorization";
/// No credential has this SecretId.
pub const SECRET_ID_NOT_FOUND: &str = "AuthFailure.SecretIdNotFound";
/// The request's timestamp is outside the allowed skew.
pub const SIGNATURE_EXPIRE: &str = "AuthFailure.SignatureExpire";
/// The signature does not match (or a legacy nonce was replayed).
pub const SIGNATURE_FAILURE: &str = "AuthFailure.SignatureFailure";
/// A temporary-credential token was sent, and this service issues none.
pub const TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";
/// The action does not exist for this product and version.
pub const INVALID_ACTION: &str = "InvalidAction";
/// A parameter of the wrong type or shape.
pub const INVALID_PARAMETER: &str = "InvalidParameter";
/// A parameter value out of its allowed set.
pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
/// The request body was not received whole.
pub const INVALID_REQUEST: &str = "InvalidRequest";
/// A required parameter is missing.
pub const MISSING_PARAMETER: &str = "MissingParameter";
/// The `Version` is not one this product serves.
pub const NO_SUCH_VERSION: &str = "NoSuchVersion";
/// Over a rate, or the server is at a bound (request slots, body buffers, nonces).
pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
/// The request body is over the size limit.
pub const REQUEST_SIZE_LIMIT_EXCEEDED: &str = "RequestSizeLimitExceeded";
/// A parameter the action does not take.
pub const UNKNOWN_PARAMETER: &str = "UnknownParameter";
/// A method other than GET and POST, or a path other than `/`.
pub const UNSUPPORTED_PROTOCOL: &str = "UnsupportedProtocol";

/// Every code above.
pub const COMMON: [&str; 15] = [
    INVALID_AUTHORIZATION,
    SECRET_ID_NOT_FOUND,
    SIGNATURE_EXPIRE,
    SIGNATURE_FAILURE,
    TOKEN_FAILURE,
    INVALID_ACTION,
    INVALID_PARAMETER,
    INVALID_PARAMETER_VALUE,
    INVALID_REQUEST,
    MISSING_PARAMETER,
    NO_SUCH_VERSION,
    REQUEST_LIMIT_EXCEEDED,
    REQUEST_SIZE_LIMIT_EXCEEDED,
    UNKNOWN_PARAMETER,
    UNSUPPORTED_PROTOCOL,
];

/// The codes of one data file: one per line, `#` comments and blank lines skipped.
fn listed(data: &'static str) -> impl Iterator<Item = &'static str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// API 3.0's common codes, which every product may answer (the "公共错误码" table of the
/// products' API error-code pages).
pub fn common() -> impl Iterator<Item = &'static str> {
    listed(include_str!("../data/common-error-codes.txt"))
}

/// The codes `product`'s `errorcodes.py` defines.
pub fn product_codes(product: Product) -> impl Iterator<Item = &'static str> {
    listed(match product {
        Product::Cvm => include_str!("../data/cvm-error-codes.txt"),
        Product::Lighthouse => include_str!("../data/lighthouse-error-codes.txt"),
    })
}

/// Whether `product` defines `code`, or it is a common code.
pub fn is_defined(product: Product, code: &str) -> bool {
    defined(product, code).is_some()
}

/// `code` as the list spells it, if `product` defines it or it is a common code: a code
/// for an [`crate::ApiError`], which holds `&'static str` codes.
pub fn defined(product: Product, code: &str) -> Option<&'static str> {
    common().chain(product_codes(product)).find(|c| *c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_define_their_own_codes_and_share_the_common_ones() {
        assert!(is_defined(Product::Cvm, "InvalidKeyPairId.NotFound"));
        assert!(!is_defined(
            Product::Lighthouse,
            "InvalidKeyPairId.NotFound"
        ));
        assert!(is_defined(
            Product::Lighthouse,
            "ResourceNotFound.KeyIdNotFound"
        ));
        assert!(is_defined(Product::Lighthouse, REQUEST_LIMIT_EXCEEDED));
        assert!(!is_defined(Product::Cvm, "Made.Up"));
        assert!(product_codes(Product::Cvm).count() > 400);
    }
}
