//! The codes the wire answers outside the domain table ([`crate::error::public_codes`]):
//! API 3.0's common codes, for what goes wrong before or around an action (transport,
//! signature, routing, decoding, admission). Every answer outside the table names its
//! code from here, so [`COMMON`] is the whole set; a test in `keypair-http` checks that no
//! answer spells a code of its own, and that each one here is on API 3.0's common list.

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
