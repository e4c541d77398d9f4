//! Who may call: the configured credentials (SecretId → SecretKey and account), or, in
//! test-credentials mode, any well-formed SecretId as an account of its own.

use crate::error::ApiError;
use keypair_core::AccountId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use zeroize::Zeroizing;

/// One API credential: a SecretId, its SecretKey, and the account it acts for.
#[derive(Clone)]
pub struct Credential {
    /// The public id (`AKID…`).
    pub secret_id: String,
    secret_key: Zeroizing<String>,
    /// The account the credential belongs to.
    pub account: AccountId,
}

impl Credential {
    /// A credential.
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
        account: AccountId,
    ) -> Self {
        Credential {
            secret_id: secret_id.into(),
            secret_key: Zeroizing::new(secret_key.into()),
            account,
        }
    }

    /// The secret key, for signing and verifying only.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("account", &self.account)
            .finish()
    }
}

/// The credentials the server accepts, by SecretId.
#[derive(Debug, Default, Clone)]
pub struct Credentials {
    by_id: HashMap<String, Credential>,
    /// Test-credentials mode: see [`Credentials::test_mode`].
    test_mode: bool,
    /// See [`Credentials::any_secret_key`].
    any_secret_key: bool,
}

/// Longest SecretId test-credentials mode accepts.
pub const MAX_TEST_SECRET_ID_LEN: usize = 128;

impl Credentials {
    /// From a list; a repeated SecretId is refused.
    pub fn new(list: impl IntoIterator<Item = Credential>) -> Result<Self, String> {
        let mut by_id = HashMap::new();
        for c in list {
            if let Some(prev) = by_id.insert(c.secret_id.clone(), c) {
                return Err(format!(
                    "SecretId {} is configured more than once",
                    prev.secret_id
                ));
            }
        }
        Ok(Credentials {
            by_id,
            test_mode: false,
            any_secret_key: false,
        })
    }

    /// Test-credentials mode, for local test suites (moto and LocalStack style): any
    /// well-formed SecretId (1 to 128 of `A-Z a-z 0-9 _ -`) is accepted, acting for the
    /// account [`test_account`] derives from it, and its SecretKey is **the SecretId
    /// itself**. Signatures are still checked in full, so a client that signs wrongly
    /// fails here as it would against the real service, and a suite needs no key
    /// material: `TENCENTCLOUD_SECRET_ID=AKIDtest TENCENTCLOUD_SECRET_KEY=AKIDtest`
    /// (or `test`/`test`) just works.
    pub fn test_mode() -> Self {
        Credentials {
            by_id: HashMap::new(),
            test_mode: true,
            any_secret_key: false,
        }
    }

    /// Test-credentials mode that **skips the signature check**: any SecretKey is
    /// accepted for a well-formed SecretId, for suites that already carry fake
    /// credentials of their own. The request must still be signed in form (an
    /// `Authorization` header or the legacy fields, a timestamp within the window), so a
    /// request is still attributed to its SecretId's account; only the signature's value
    /// goes unchecked. Opt-in (`keypaird serve --any-secret-key`), loopback only.
    pub fn any_secret_key() -> Self {
        Credentials {
            any_secret_key: true,
            ..Credentials::test_mode()
        }
    }

    /// Whether signatures go unchecked ([`Credentials::any_secret_key`]).
    pub fn skips_signatures(&self) -> bool {
        self.any_secret_key
    }

    /// Whether this is test-credentials mode.
    pub fn is_test_mode(&self) -> bool {
        self.test_mode
    }

    /// A configured credential is borrowed; only test mode makes one.
    pub(super) fn get(&self, secret_id: &str) -> Result<Cow<'_, Credential>, ApiError> {
        if let Some(c) = self.by_id.get(secret_id) {
            return Ok(Cow::Borrowed(c));
        }
        if self.test_mode && well_formed_test_id(secret_id) {
            return Ok(Cow::Owned(Credential::new(
                secret_id,
                secret_id,
                test_account(secret_id),
            )));
        }
        Err(ApiError::new(
            crate::codes::SECRET_ID_NOT_FOUND,
            "密钥不存在",
            format!(
                "SecretId {} does not exist or is disabled",
                crate::error::clip(secret_id)
            ),
        ))
    }
}

fn well_formed_test_id(secret_id: &str) -> bool {
    check_secret_id(secret_id).is_ok()
}

/// Whether `secret_id` has the form of a SecretId (1 to [`MAX_TEST_SECRET_ID_LEN`] of
/// `A-Z a-z 0-9 _ -`), the rule for configured credentials and test-credentials mode
/// alike; `Err` says what is wrong, naming the first character not allowed.
pub fn check_secret_id(secret_id: &str) -> Result<(), String> {
    const RULE: &str = "a SecretId is 1 to 128 of A-Z a-z 0-9 _ -";
    if let Some(bad) = secret_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "{bad:?} (U+{:04X}) is not allowed; {RULE}",
            u32::from(bad)
        ));
    }
    if !(1..=MAX_TEST_SECRET_ID_LEN).contains(&secret_id.len()) {
        return Err(format!("it has {} characters; {RULE}", secret_id.len()));
    }
    Ok(())
}

/// The account a SecretId acts for in test-credentials mode: `1` followed by nine
/// decimal digits of the SHA-256 of the SecretId, like a Tencent account id (UIN), and
/// stable across restarts.
pub fn test_account(secret_id: &str) -> AccountId {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret_id.as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 1_000_000_000;
    AccountId::parse(&format!("1{n:09}")).expect("ten digits is a valid account id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_mode_accepts_well_formed_ids_with_their_own_key_and_a_stable_account() {
        let creds = Credentials::test_mode();
        let c = creds.get("AKIDtest").unwrap();
        assert_eq!(c.secret_key(), "AKIDtest");
        assert_eq!(c.account, test_account("AKIDtest"));
        assert_eq!(c.account.as_str().len(), 10);
        assert_eq!(test_account("AKIDtest"), test_account("AKIDtest"), "stable");
        assert_ne!(test_account("AKIDtest"), test_account("AKIDother"));
        for bad in ["", "a/b", "a b", "a,b", &"x".repeat(129)] {
            assert!(creds.get(bad).is_err(), "{bad:?}");
        }
        assert!(
            Credentials::default().get("AKIDtest").is_err(),
            "off by default"
        );
    }

    #[test]
    fn credential_debug_hides_the_secret() {
        let c = Credential::new("AKID1", "very-secret", AccountId::parse("1").unwrap());
        assert!(!format!("{c:?}").contains("very-secret"));
        assert!(Credentials::new([c.clone(), c]).is_err());
    }
}
