//! The domain error: one variant per thing a caller can act on, each carrying what its
//! message needs. The mapping to Tencent error codes lives in the HTTP adapter.
//!
//! The enum is deliberately *not* `#[non_exhaustive]`: adapters map it with one
//! exhaustive `match`, so a variant added here fails to compile in every adapter until
//! it is mapped, instead of falling silently into a wildcard arm.
//!
//! `Display` is always safe to show the caller. The two failures that are not the
//! caller's doing ([`Error::Storage`], [`Error::KeyGeneration`]) say only what failed;
//! their cause is kept as the error's [`source`](std::error::Error::source) for the
//! operator's log.

use crate::{InstanceId, KeyId, Product};

/// The cause of a failure that is not the caller's doing, kept for the operator.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a key-pair operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key name is the empty string.
    #[error("the key name is empty; give 1 to 25 letters, digits or underscores")]
    KeyNameEmpty,
    /// The key name is longer than 25 characters.
    #[error("the key name has {len} characters; at most {max} are allowed")]
    KeyNameTooLong {
        /// Characters given.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The key name has a character other than `[A-Za-z0-9_]`.
    #[error("the key name contains {ch:?}; only letters A-Z a-z, digits and '_' are allowed")]
    KeyNameIllegalChar {
        /// The first offending character.
        ch: char,
    },
    /// A key id is not `<prefix>` + 8 of `[0-9a-z]` for the product.
    #[error(
        "key id {id:?} is malformed; expected {prefix}xxxxxxxx with x a lower-case letter or digit"
    )]
    KeyIdMalformed {
        /// The id as given.
        id: String,
        /// The product's prefix.
        prefix: &'static str,
    },
    /// An instance id is not `<prefix>` + 8 of `[0-9a-z]` for the product.
    #[error("instance id {id:?} is malformed; expected {prefix}xxxxxxxx with x a lower-case letter or digit")]
    InstanceIdMalformed {
        /// The id as given.
        id: String,
        /// The product's prefix.
        prefix: &'static str,
    },
    /// An account id is not 1–64 of `[A-Za-z0-9_-]`.
    #[error("account id {0:?} is malformed; use 1 to 64 letters, digits, '_' or '-'")]
    AccountIdMalformed(String),
    /// A project id is negative or out of range.
    #[error("project id {0} is invalid; project ids are non-negative integers")]
    ProjectIdInvalid(i64),
    /// The project does not exist for this account.
    #[error("project {0} does not exist for this account")]
    ProjectNotFound(u64),
    /// The description is longer than allowed.
    #[error("the description has {len} characters; at most {max} are allowed")]
    DescriptionTooLong {
        /// Characters given.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A description holds a control character.
    #[error(
        "`Description` contains {}, a control character; descriptions take printable text",
        crate::text::shown(*.ch)
    )]
    DescriptionIllegalChar {
        /// The character.
        ch: char,
    },
    /// A tag key uses a prefix reserved for the platform.
    #[error(
        "tag key {0:?} starts with a prefix reserved for Tencent Cloud (qcs:, project, 项目, \
         qcloud, tencent, in any case); choose a key that does not"
    )]
    TagKeyReserved(String),
    /// More tags than the product allows on one key pair.
    #[error("{given} tags given; at most {max} are allowed on one key pair")]
    TooManyTags {
        /// Tags given.
        given: usize,
        /// The maximum.
        max: usize,
    },
    /// A CVM tag specification names a resource type other than `keypair`.
    #[error("tag specification resource type {0:?} is not supported here; use \"keypair\"")]
    TagResourceType(String),
    /// The public key is not a single OpenSSH RSA public key; the text says what is wrong.
    #[error("the public key is malformed: {0}")]
    PublicKeyMalformed(String),
    /// Another key pair of this account and product has this name.
    #[error("a key pair named {0:?} already exists")]
    DuplicateName(String),
    /// Another key pair of this account and product has this public key.
    #[error("this public key ({fingerprint}) is already imported as another key pair")]
    DuplicatePublicKey {
        /// The key's SHA256 fingerprint.
        fingerprint: String,
    },
    /// The account holds as many key pairs of this product as it may.
    #[error("the account already holds {limit} key pairs of this product, the most allowed; delete some first")]
    QuotaExceeded {
        /// The quota.
        limit: u32,
    },
    /// Key ids that do not exist for this account and product.
    #[error("key pair(s) not found: {}", join(.0))]
    KeyPairNotFound(Vec<KeyId>),
    /// A key pair is still associated with instances and cannot be deleted.
    #[error("key pair {key} is associated with instance(s) {}; disassociate them first", join(.instances))]
    KeyPairInUse {
        /// The key pair.
        key: KeyId,
        /// Its instances.
        instances: Vec<InstanceId>,
    },
    /// Lighthouse: the key pair is already bound to the instance.
    #[error("key pair {key} is already associated with instance {instance}")]
    AlreadyAssociated {
        /// The key pair.
        key: KeyId,
        /// The instance.
        instance: InstanceId,
    },
    /// Lighthouse: the key pair is not bound to the instance.
    #[error("key pair {key} is not associated with instance {instance}")]
    NotAssociated {
        /// The key pair.
        key: KeyId,
        /// The instance.
        instance: InstanceId,
    },
    /// The key pair would be bound to more instances than allowed.
    #[error(
        "key pair {key} would be bound to more than {limit} instances; disassociate some first"
    )]
    TooManyInstancesForKeyPair {
        /// The key pair.
        key: KeyId,
        /// The bound.
        limit: usize,
    },
    /// The instance would be bound to more key pairs than allowed.
    #[error("instance {instance} would be bound to more than {limit} key pairs; disassociate some first")]
    TooManyKeyPairsForInstance {
        /// The instance.
        instance: InstanceId,
        /// The bound.
        limit: usize,
    },
    /// The instance does not exist for this account and product.
    #[error("instance {0} does not exist")]
    InstanceNotFound(InstanceId),
    /// The instance runs Windows, which takes no key pairs.
    #[error("instance {0} runs Windows; key pairs bind to Linux instances only")]
    InstanceWindows(InstanceId),
    /// The instance's state does not allow the operation.
    #[error("instance {instance} is {state}; {}", state_hint(*.state))]
    InstanceState {
        /// The instance.
        instance: InstanceId,
        /// Its state.
        state: crate::InstanceState,
    },
    /// Another operation is under way on the instance.
    #[error("instance {instance} is busy ({}); retry once that operation has finished", busy_words(*.busy))]
    InstanceBusy {
        /// The instance.
        instance: InstanceId,
        /// What it is busy with.
        busy: crate::Busy,
    },
    /// CVM: the instance is stopped in no-charge mode.
    #[error(
        "instance {0} is stopped in no-charge mode (StopChargingMode STOP_CHARGING), which \
         key pairs cannot be bound to or unbound from; start it, or stop it again with \
         charging kept (KEEP_CHARGING), then retry"
    )]
    InstanceStopCharging(InstanceId),
    /// Lighthouse: the Username differs from the one the key was bound with.
    #[error("key pair {key} is bound to instance {instance} for another user; give the Username it was bound with")]
    UnbindUsernameMismatch {
        /// The key pair.
        key: KeyId,
        /// The instance.
        instance: InstanceId,
    },
    /// Lighthouse `AssociateType`/`DisassociateType` other than ONLINE or OFFLINE.
    #[error("{field} must be ONLINE or OFFLINE, got {value:?}")]
    BindingTypeInvalid {
        /// The parameter.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// Lighthouse: `Username` given with `OFFLINE`.
    #[error("`Username` cannot be given with {field}=OFFLINE")]
    UsernameWithOffline {
        /// The type parameter.
        field: &'static str,
    },
    /// A tag key breaks Tencent's tag rules (characters, length, emptiness).
    #[error("tag key {key:?} is invalid: {reason}")]
    TagKeyIllegal {
        /// The key (clipped).
        key: String,
        /// Which rule.
        reason: String,
    },
    /// A tag value breaks Tencent's tag rules.
    #[error("tag value {value:?} is invalid: {reason}")]
    TagValueIllegal {
        /// The value (clipped).
        value: String,
        /// Which rule.
        reason: String,
    },
    /// The same tag key twice in one request (CVM; Lighthouse keeps the last value).
    #[error("tag key {0:?} is given more than once")]
    DuplicateTagKey(String),
    /// `KeyIds` and `Filters` were given together.
    #[error("KeyIds and Filters cannot be given together; use one or the other")]
    IdsWithFilters,
    /// `Limit` outside 1..=100.
    #[error("Limit {value} is out of range; it must be between 1 and {max}")]
    LimitOutOfRange {
        /// The value given.
        value: i64,
        /// The maximum.
        max: u32,
    },
    /// `Offset` is negative.
    #[error("Offset {0} is invalid; it must not be negative")]
    OffsetNegative(i64),
    /// A filter name the product does not support.
    #[error("filter {name:?} is not supported; supported filters are {supported}")]
    UnknownFilter {
        /// The name given.
        name: String,
        /// The names that are supported, for the message.
        supported: String,
    },
    /// A filter value of the wrong form (`project-id` not an integer, an empty tag key…).
    #[error("filter {name:?} has an invalid value {value:?}: {reason}")]
    InvalidFilterValue {
        /// The filter.
        name: String,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A filter has no values.
    #[error("filter {0:?} has no values; give at least one")]
    EmptyFilter(String),
    /// Too many filters.
    #[error("{given} filters given; at most {max} are allowed")]
    TooManyFilters {
        /// Filters given.
        given: usize,
        /// The maximum.
        max: usize,
    },
    /// Too many values in one filter.
    #[error("filter {name:?} has {given} values; at most {max} are allowed")]
    TooManyFilterValues {
        /// The filter.
        name: String,
        /// Values given.
        given: usize,
        /// The maximum.
        max: usize,
    },
    /// Too many ids in one request.
    #[error("{given} {what} given; at most {max} are allowed")]
    TooManyIds {
        /// `KeyIds` or `InstanceIds`.
        what: &'static str,
        /// Ids given.
        given: usize,
        /// The maximum.
        max: usize,
    },
    /// An id list is empty where at least one id is required.
    #[error("{0} is empty; give at least one id")]
    NoIds(&'static str),
    /// The same id appears twice in one list (Lighthouse).
    #[error("{what} contains {id:?} more than once")]
    DuplicateId {
        /// `KeyIds` or `InstanceIds`.
        what: &'static str,
        /// The repeated id.
        id: String,
    },
    /// A Lighthouse login user name of the wrong form.
    #[error("username {0:?} is invalid; use 1 to 32 of a-z, 0-9, '_' or '-', starting with a letter or '_'")]
    InvalidUsername(String),
    /// ModifyKeyPairAttribute without a name or a description.
    #[error("give KeyName, Description or both; there is nothing to change")]
    NothingToModify,
    /// The product has no such action (ModifyKeyPairAttribute on Lighthouse).
    #[error("{product} has no {action}")]
    UnsupportedAction {
        /// The product.
        product: Product,
        /// The action's wire name.
        action: &'static str,
    },
    /// Key generation failed; the cause is the source.
    #[error("key generation failed")]
    KeyGeneration(#[source] BoxError),
    /// The store failed for a reason the caller cannot fix (I/O, connection,
    /// corruption); the cause is the source.
    #[error("the key-pair store failed")]
    Storage(#[source] BoxError),
}

impl Error {
    /// A key-generation failure caused by `cause`.
    pub fn key_generation(cause: impl Into<BoxError>) -> Self {
        Error::KeyGeneration(cause.into())
    }

    /// A storage failure caused by `cause`.
    pub fn storage(cause: impl Into<BoxError>) -> Self {
        Error::Storage(cause.into())
    }
}

fn state_hint(state: crate::InstanceState) -> &'static str {
    use crate::InstanceState as S;
    match state {
        S::Running => "stop it first, or set ForceStop (CVM) / OFFLINE (Lighthouse)",
        S::Pending => "wait until it has been created",
        S::Starting | S::Stopping | S::Rebooting | S::Stopped => {
            "wait until it is RUNNING or STOPPED, then retry"
        }
        S::LaunchFailed => "it was never created, so it takes no key pairs",
        S::Shutdown | S::Terminating | S::Isolating => {
            "it is being released, so it takes no key pairs"
        }
        S::Freezing | S::Banning => {
            "it is blocked by the platform; settle the account's standing, then retry"
        }
        S::EnterRescueMode | S::RescueMode | S::ExitRescueMode => {
            "take it out of rescue mode first, then retry"
        }
        S::EnterServiceLiveMigrate | S::ServiceLiveMigrate | S::ExitServiceLiveMigrate => {
            "the platform is migrating it; retry when it is RUNNING or STOPPED again"
        }
    }
}

fn busy_words(busy: crate::Busy) -> &'static str {
    match busy {
        crate::Busy::TaskRunning => "a task of the same kind is running on it",
        crate::Busy::OperationInProgress => "another operation is in progress on it",
        crate::Busy::LatestOperationUnfinished => "its latest operation has not finished",
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes, `outer: inner: …`, for an operator's log or a start-up
/// message. A cause whose text the message already holds is not repeated: wrappers such
/// as a connection pool's often print their source inside their own message.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn layer(text: &'static str, source: Option<Layer>) -> Layer {
        Layer {
            text,
            source: source.map(Box::new),
        }
    }

    #[test]
    fn a_chain_lists_each_cause_once() {
        let io = layer("No such file or directory", None);
        let connect = layer("error connecting to server", Some(io));
        let pool = layer("pool: error connecting to server", Some(connect));
        assert_eq!(
            error_chain(&pool),
            "pool: error connecting to server: No such file or directory"
        );
        assert_eq!(error_chain(&layer("alone", None)), "alone");
    }
}
