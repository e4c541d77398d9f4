//! API errors: the Tencent error code and a message in the caller's language, and the one
//! table that maps domain errors to codes per product.

use keypair_core::{Error, InstanceState, Product};

/// The caller's language (`X-TC-Language` / `Language`); the SDKs default to Chinese.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    /// `zh-CN`, the default.
    #[default]
    Chinese,
    /// `en-US`.
    English,
}

impl Language {
    /// From the header or parameter value; anything but `en-US` is Chinese.
    pub fn from_tag(tag: Option<&str>) -> Self {
        if tag.is_some_and(|t| t.eq_ignore_ascii_case("en-US")) {
            Language::English
        } else {
            Language::Chinese
        }
    }
}

/// An error answer: a code and messages in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The Tencent error code.
    pub code: &'static str,
    /// The English message.
    pub en: String,
    /// The Chinese message.
    pub zh: String,
}

impl ApiError {
    /// An error with an English detail and a Chinese summary; the Chinese message carries
    /// the English detail too, so nothing actionable is lost in either language.
    pub fn new(code: &'static str, zh_summary: &str, en: impl Into<String>) -> Self {
        let en = en.into();
        let zh = format!("{zh_summary}（{en}）");
        ApiError { code, en, zh }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Language) -> &str {
        match lang {
            Language::English => &self.en,
            Language::Chinese => &self.zh,
        }
    }

    /// `MissingParameter`.
    pub fn missing(name: &str) -> Self {
        Self::new(
            "MissingParameter",
            "缺少参数",
            format!("the required parameter `{name}` is missing"),
        )
    }

    /// `UnknownParameter`.
    pub fn unknown(name: &str, action: &str) -> Self {
        Self::new(
            "UnknownParameter",
            "未知参数",
            format!("`{name}` is not a parameter of {action}"),
        )
    }

    /// `InvalidParameter` (a value of the wrong type or shape).
    pub fn invalid(en: impl Into<String>) -> Self {
        Self::new("InvalidParameter", "参数错误", en)
    }

    /// `InvalidParameterValue`.
    pub fn invalid_value(en: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", "参数取值错误", en)
    }

    /// An internal failure: the detail is logged by the caller, never sent.
    pub fn internal(product: Product) -> Self {
        Self::new(
            crate::wire::spec(product).internal_error,
            "内部错误",
            "an internal error occurred; retry the request later",
        )
    }
}

/// The CVM code, the Lighthouse code and the Chinese summary of an error.
type Codes = (&'static str, &'static str, &'static str);

/// The CVM code, the Lighthouse code and the Chinese summary of an error the caller can
/// act on; `None` for a failure that is not the caller's doing, whose detail stays in the
/// log. This is the one mapping table (docs/api.md lists it): an exhaustive match that
/// routes each variant to its group's table, so a variant added to the core does not
/// compile until it is mapped here.
fn public_codes(err: &Error) -> Option<Codes> {
    match err {
        Error::KeyNameEmpty
        | Error::KeyNameTooLong { .. }
        | Error::KeyNameIllegalChar { .. }
        | Error::KeyIdMalformed { .. }
        | Error::InstanceIdMalformed { .. }
        | Error::ProjectNotFound(_)
        | Error::ProjectIdInvalid(_)
        | Error::DescriptionTooLong { .. }
        | Error::PublicKeyMalformed(_)
        | Error::InvalidUsername(_) => value_codes(err),
        Error::TagResourceType(_)
        | Error::TagKeyIllegal { .. }
        | Error::TagValueIllegal { .. }
        | Error::DuplicateTagKey(_)
        | Error::TagKeyReserved(_)
        | Error::TooManyTags { .. } => tag_codes(err),
        Error::InstanceNotFound(_)
        | Error::InstanceWindows(_)
        | Error::InstanceState { .. }
        | Error::UnbindUsernameMismatch { .. }
        | Error::BindingTypeInvalid { .. }
        | Error::UsernameWithOffline { .. }
        | Error::KeyPairInUse { .. }
        | Error::AlreadyAssociated { .. }
        | Error::NotAssociated { .. }
        | Error::TooManyInstancesForKeyPair { .. }
        | Error::TooManyKeyPairsForInstance { .. } => binding_codes(err),
        Error::DuplicateName(_)
        | Error::DuplicatePublicKey { .. }
        | Error::QuotaExceeded { .. }
        | Error::KeyPairNotFound(_) => state_codes(err),
        Error::IdsWithFilters
        | Error::LimitOutOfRange { .. }
        | Error::OffsetNegative(_)
        | Error::UnknownFilter { .. }
        | Error::EmptyFilter(_)
        | Error::InvalidFilterValue { .. }
        | Error::TooManyFilters { .. }
        | Error::TooManyFilterValues { .. }
        | Error::TooManyIds { .. }
        | Error::NoIds(_)
        | Error::NothingToModify
        | Error::DuplicateId { .. }
        | Error::UnsupportedAction { .. } => request_codes(err),
        Error::AccountIdMalformed(_) | Error::KeyGeneration(_) | Error::Storage(_) => None,
    }
}

/// A value the caller sent that the core refused: names, ids, projects, descriptions,
/// public keys, usernames. ([`public_codes`] routes here only the variants matched below.)
fn value_codes(err: &Error) -> Option<Codes> {
    Some(match err {
        Error::KeyNameEmpty => (
            "InvalidKeyPairNameEmpty",
            "InvalidParameterValue.InvalidKeyPairNameEmpty",
            "密钥对名称为空",
        ),
        Error::KeyNameTooLong { .. } => (
            "InvalidKeyPairNameTooLong",
            "InvalidParameterValue.InvalidKeyPairNameTooLong",
            "密钥对名称过长",
        ),
        Error::KeyNameIllegalChar { .. } => (
            "InvalidKeyPairNameIncludeIllegalChar",
            "InvalidParameterValue.InvalidKeyPairNameIncludeIllegalChar",
            "密钥对名称包含非法字符",
        ),
        Error::KeyIdMalformed { .. } => (
            "InvalidKeyPairId.Malformed",
            "InvalidParameterValue.KeyPairIdMalformed",
            "密钥对ID格式错误",
        ),
        Error::InstanceIdMalformed { .. } => (
            "InvalidInstanceId.Malformed",
            "InvalidParameterValue.InstanceIdMalformed",
            "实例ID格式错误",
        ),
        Error::ProjectNotFound(_) => (
            "InvalidProjectId.NotFound",
            "InvalidParameterValue",
            "项目不存在",
        ),
        Error::ProjectIdInvalid(_) => (
            "InvalidProjectId.NotFound",
            "InvalidParameterValue",
            "项目ID无效",
        ),
        Error::DescriptionTooLong { .. } => {
            ("InvalidParameterValue", "InvalidParameterValue", "描述过长")
        }
        Error::PublicKeyMalformed(_) => (
            "InvalidPublicKey.Malformed",
            "InvalidParameterValue.KeyPairPublicKeyMalformed",
            "公钥格式错误",
        ),
        Error::InvalidUsername(_) => (
            "InvalidParameterValue",
            "InvalidParameterValue",
            "用户名无效",
        ),
        _ => return None,
    })
}

/// Tags the caller sent ([`public_codes`] routes here only the variants matched below).
fn tag_codes(err: &Error) -> Option<Codes> {
    Some(match err {
        Error::TagResourceType(_) => ("InvalidParameterValue", "InvalidParameterValue", "标签无效"),
        Error::TagKeyIllegal { .. } => (
            "FailedOperation.IllegalTagKey",
            "InvalidParameterValue",
            "标签键不合法",
        ),
        Error::TagValueIllegal { .. } => (
            "FailedOperation.IllegalTagValue",
            "InvalidParameterValue",
            "标签值不合法",
        ),
        Error::DuplicateTagKey(_) => (
            "InvalidParameterValue.DuplicateTags",
            // Not raised: Lighthouse keeps the last value of a repeated key.
            "InvalidParameterValue.Duplicated",
            "标签键重复",
        ),
        Error::TagKeyReserved(_) => (
            "FailedOperation.TagKeyReserved",
            "InvalidParameterValue",
            "标签键为系统预留",
        ),
        Error::TooManyTags { .. } => (
            "LimitExceeded.TagResourceQuota",
            "InvalidParameterValue.LimitExceeded",
            "标签数量超过限制",
        ),
        _ => return None,
    })
}

/// Instances and their bindings. ([`public_codes`] routes here only the variants matched below.)
fn binding_codes(err: &Error) -> Option<Codes> {
    Some(match err {
        Error::InstanceNotFound(_) => (
            "InvalidInstanceId.NotFound",
            "ResourceNotFound.InstanceIdNotFound",
            "实例不存在",
        ),
        Error::InstanceWindows(_) => (
            "UnsupportedOperation.InstanceOsWindows",
            "UnsupportedOperation.WindowsNotAllowToAssociateKeyPair",
            "Windows 实例不支持密钥对",
        ),
        Error::InstanceState { state, .. } => {
            return Some(instance_state_codes(*state));
        }
        Error::UnbindUsernameMismatch { .. } => (
            "InvalidParameterValue",
            "UnsupportedOperation.KeyPairUnbindUsernameMismatch",
            "解绑用户名与绑定时不一致",
        ),
        Error::BindingTypeInvalid { .. } => (
            "InvalidParameterValue",
            "InvalidParameterValue",
            "参数取值错误",
        ),
        Error::UsernameWithOffline { .. } => (
            "InvalidParameterValue",
            "InvalidParameter.ParameterConflict",
            "参数冲突",
        ),
        Error::KeyPairInUse { .. } => (
            "InvalidParameterValue.KeyPairNotSupported",
            "ResourceInUse.KeyPairInUse",
            "密钥对已绑定实例，无法删除",
        ),
        Error::AlreadyAssociated { .. } => (
            "InvalidParameterValue",
            "UnsupportedOperation.KeyPairBindDuplicate",
            "密钥对已绑定该实例",
        ),
        Error::NotAssociated { .. } => (
            "InvalidParameterValue",
            "UnsupportedOperation.KeyPairNotBoundToInstance",
            "密钥对未绑定该实例",
        ),
        Error::TooManyInstancesForKeyPair { .. } | Error::TooManyKeyPairsForInstance { .. } => {
            ("LimitExceeded", "LimitExceeded", "绑定数量超过限制")
        }
        _ => return None,
    })
}

/// What is already stored: names and keys taken, the quota, a missing key pair. ([`public_codes`] routes here only the variants matched below.)
fn state_codes(err: &Error) -> Option<Codes> {
    Some(match err {
        Error::DuplicateName(_) => (
            "InvalidKeyPairName.Duplicate",
            "InvalidParameterValue.DuplicateParameterValue",
            "密钥对名称已存在",
        ),
        Error::DuplicatePublicKey { .. } => (
            "InvalidPublicKey.Duplicate",
            "InvalidParameterValue.KeyPairPublicKeyDuplicated",
            "公钥已存在",
        ),
        Error::QuotaExceeded { .. } => (
            "InvalidKeyPair.LimitExceeded",
            "LimitExceeded.KeyPairLimitExceeded",
            "密钥对数量超过限制",
        ),
        Error::KeyPairNotFound(_) => (
            "InvalidKeyPairId.NotFound",
            "ResourceNotFound.KeyIdNotFound",
            "密钥对不存在",
        ),
        _ => return None,
    })
}

/// The shape of a request: ids, filters, paging, the action. ([`public_codes`] routes here only the variants matched below.)
fn request_codes(err: &Error) -> Option<Codes> {
    Some(match err {
        Error::IdsWithFilters => (
            "InvalidParameterCombination",
            "InvalidParameter.ParameterConflict",
            "KeyIds 与 Filters 不能同时指定",
        ),
        Error::LimitOutOfRange { .. } => (
            "InvalidParameterValueLimit",
            "InvalidParameterValue.OutOfRange",
            "Limit 取值超出范围",
        ),
        Error::OffsetNegative(_) => (
            "InvalidParameterValueOffset",
            "InvalidParameterValue.Negative",
            "Offset 不能为负数",
        ),
        Error::UnknownFilter { .. } | Error::EmptyFilter(_) | Error::InvalidFilterValue { .. } => (
            "InvalidFilter",
            "InvalidParameter.InvalidFilter",
            "过滤条件无效",
        ),
        Error::TooManyFilters { .. } => (
            "InvalidParameterValue.LimitExceeded",
            "InvalidParameterValue.LimitExceeded",
            "过滤条件数量超过限制",
        ),
        Error::TooManyFilterValues { .. } => (
            "InvalidFilterValue.LimitExceeded",
            "InvalidParameterValue.LimitExceeded",
            "过滤值数量超过限制",
        ),
        Error::TooManyIds { .. } => (
            "InvalidParameterValue.LimitExceeded",
            "InvalidParameterValue.LimitExceeded",
            "ID 数量超过限制",
        ),
        Error::NoIds(_) | Error::NothingToModify => {
            ("MissingParameter", "MissingParameter", "缺少参数")
        }
        Error::DuplicateId { .. } => (
            "InvalidParameterValue",
            "InvalidParameterValue.Duplicated",
            "参数值重复",
        ),
        Error::UnsupportedAction { .. } => ("InvalidAction", "InvalidAction", "接口不存在"),
        _ => return None,
    })
}

/// The codes for an instance in a state that refuses the operation: CVM has one code per
/// state (`UnsupportedOperation.InstanceStateRunning` …); Lighthouse says the instance
/// is still being created (`PENDING`) or in an invalid state.
fn instance_state_codes(state: InstanceState) -> (&'static str, &'static str, &'static str) {
    let cvm = match state {
        InstanceState::Pending => "UnsupportedOperation.InstanceStatePending",
        InstanceState::Running => "UnsupportedOperation.InstanceStateRunning",
        InstanceState::Starting => "UnsupportedOperation.InstanceStateStarting",
        InstanceState::Stopping => "UnsupportedOperation.InstanceStateStopping",
        InstanceState::Rebooting => "UnsupportedOperation.InstanceStateRebooting",
        InstanceState::Shutdown => "UnsupportedOperation.InstanceStateShutdown",
        InstanceState::Terminating => "UnsupportedOperation.InstanceStateTerminating",
        // No state code exists for these; the instance is not one that takes key pairs.
        InstanceState::LaunchFailed | InstanceState::Stopped => "InvalidInstance.NotSupported",
    };
    let lighthouse = match state {
        InstanceState::Pending => "OperationDenied.InstanceCreating",
        _ => "UnsupportedOperation.InvalidInstanceState",
    };
    (cvm, lighthouse, "实例状态不支持该操作")
}

/// The Tencent code of a domain error for a product, and its Chinese summary.
pub fn code_for(err: &Error, product: Product) -> (&'static str, &'static str) {
    match public_codes(err) {
        Some((cvm, lighthouse, zh)) => (
            [cvm, lighthouse][crate::wire::spec(product).code_column],
            zh,
        ),
        None => (ApiError::internal(product).code, "内部错误"),
    }
}

/// Whether the error hides internals (its detail goes to the log, not the caller).
pub fn is_internal(err: &Error) -> bool {
    public_codes(err).is_none()
}

/// Most characters of a client-supplied value echoed in a message.
pub const CLIP_CHARS: usize = 64;

/// A client-supplied value as echoed in messages: at most [`CLIP_CHARS`] characters,
/// then `…(N bytes)`, so an answer never grows with what the client sent.
pub fn clip(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(CLIP_CHARS) {
        None => value.into(),
        Some((end, _)) => format!("{}…({} bytes)", &value[..end], value.len()).into(),
    }
}

/// The answer when an admission port (nonce ledger, rate counter) could not decide,
/// typically because the shared database is unreachable: logged with its cause, and
/// answered with the retryable internal-error code, never let through undecided.
pub fn undecided(port: &str, err: &keypair_core::StoreError, product: Product) -> ApiError {
    tracing::error!(%product, error = %keypair_core::error_chain(err), "{port} could not decide; refusing the request");
    ApiError::internal(product)
}

/// The answer for a domain error.
pub fn from_domain(err: &Error, product: Product) -> ApiError {
    if is_internal(err) {
        return ApiError::internal(product);
    }
    let (code, zh) = code_for(err, product);
    ApiError::new(code, zh, err.to_string())
}
