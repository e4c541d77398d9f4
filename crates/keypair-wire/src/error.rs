//! API errors: the Tencent error code and a message in the caller's language, and the one
//! table that maps every domain error to its code on each product.

use crate::spec::Codes;
use keypair_core::{Busy, Error, InstanceState, Product};

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

/// An error answer: a code and messages in both languages, and, for a failure that is
/// not the caller's doing, its cause for the operator's log (never sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The Tencent error code.
    pub code: &'static str,
    /// The English message.
    pub en: String,
    /// The Chinese message.
    pub zh: String,
    /// What the operator's log should say about an internal failure: its cause. The
    /// answer carries only the generic message.
    pub detail: Option<String>,
}

impl ApiError {
    /// An error with an English detail and a Chinese summary; the Chinese message carries
    /// the English detail too, so nothing actionable is lost in either language.
    pub fn new(code: &'static str, zh_summary: &str, en: impl Into<String>) -> Self {
        let en = en.into();
        let zh = format!("{zh_summary}（{en}）");
        ApiError {
            code,
            en,
            zh,
            detail: None,
        }
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
            crate::codes::MISSING_PARAMETER,
            "缺少参数",
            format!("the required parameter `{name}` is missing"),
        )
    }

    /// `UnknownParameter`.
    pub fn unknown(name: &str, action: &str) -> Self {
        Self::new(
            crate::codes::UNKNOWN_PARAMETER,
            "未知参数",
            format!("`{name}` is not a parameter of {action}"),
        )
    }

    /// `InvalidParameter` (a value of the wrong type or shape).
    pub fn invalid(en: impl Into<String>) -> Self {
        Self::new(crate::codes::INVALID_PARAMETER, "参数错误", en)
    }

    /// `InvalidParameterValue`.
    pub fn invalid_value(en: impl Into<String>) -> Self {
        Self::new(crate::codes::INVALID_PARAMETER_VALUE, "参数取值错误", en)
    }

    /// An internal failure of `product`'s request: the retryable code and a generic
    /// message; `cause` goes to the operator's log only ([`ApiError::detail`]).
    pub fn internal(product: Product, cause: impl Into<String>) -> Self {
        ApiError {
            detail: Some(cause.into()),
            ..Self::new(
                crate::spec::spec(product).internal_error,
                "内部错误",
                "an internal error occurred; retry the request later",
            )
        }
    }
}

const fn codes(cvm: &'static str, lighthouse: &'static str, zh: &'static str) -> Codes {
    Codes {
        cvm,
        lighthouse,
        zh,
    }
}

// The rows of the error table: a domain error's code on CVM and on Lighthouse, and the
// Chinese summary that starts its Chinese message (docs/api.md lists them).
const NAME_EMPTY: Codes = codes(
    "InvalidKeyPairNameEmpty",
    "InvalidParameterValue.InvalidKeyPairNameEmpty",
    "密钥对名称为空",
);
const NAME_TOO_LONG: Codes = codes(
    "InvalidKeyPairNameTooLong",
    "InvalidParameterValue.InvalidKeyPairNameTooLong",
    "密钥对名称过长",
);
const NAME_ILLEGAL_CHAR: Codes = codes(
    "InvalidKeyPairNameIncludeIllegalChar",
    "InvalidParameterValue.InvalidKeyPairNameIncludeIllegalChar",
    "密钥对名称包含非法字符",
);
const KEY_ID_MALFORMED: Codes = codes(
    "InvalidKeyPairId.Malformed",
    "InvalidParameterValue.KeyPairIdMalformed",
    "密钥对ID格式错误",
);
const INSTANCE_ID_MALFORMED: Codes = codes(
    "InvalidInstanceId.Malformed",
    "InvalidParameterValue.InstanceIdMalformed",
    "实例ID格式错误",
);
const PROJECT_NOT_FOUND: Codes = codes(
    "InvalidProjectId.NotFound",
    "InvalidParameterValue",
    "项目不存在",
);
const PROJECT_INVALID: Codes = codes(
    "InvalidProjectId.NotFound",
    "InvalidParameterValue",
    "项目ID无效",
);
const DESCRIPTION_TOO_LONG: Codes =
    codes("InvalidParameterValue", "InvalidParameterValue", "描述过长");
const DESCRIPTION_ILLEGAL_CHAR: Codes = codes(
    "InvalidParameterValue",
    "InvalidParameterValue",
    "描述含有控制字符",
);
const PUBLIC_KEY_MALFORMED: Codes = codes(
    "InvalidPublicKey.Malformed",
    "InvalidParameterValue.KeyPairPublicKeyMalformed",
    "公钥格式错误",
);
const USERNAME_INVALID: Codes = codes(
    "InvalidParameterValue",
    "InvalidParameterValue",
    "用户名无效",
);
const TAG_RESOURCE_TYPE: Codes =
    codes("InvalidParameterValue", "InvalidParameterValue", "标签无效");
const TAG_KEY_ILLEGAL: Codes = codes(
    "FailedOperation.IllegalTagKey",
    "InvalidParameterValue",
    "标签键不合法",
);
const TAG_VALUE_ILLEGAL: Codes = codes(
    "FailedOperation.IllegalTagValue",
    "InvalidParameterValue",
    "标签值不合法",
);
const TAG_KEY_REPEATED: Codes = codes(
    "InvalidParameterValue.DuplicateTags",
    // Not raised: Lighthouse keeps the last value of a repeated key.
    "InvalidParameterValue.Duplicated",
    "标签键重复",
);
const TAG_KEY_RESERVED: Codes = codes(
    "FailedOperation.TagKeyReserved",
    "InvalidParameterValue",
    "标签键为系统预留",
);
const TOO_MANY_TAGS: Codes = codes(
    "LimitExceeded.TagResourceQuota",
    "InvalidParameterValue.LimitExceeded",
    "标签数量超过限制",
);
const INSTANCE_NOT_FOUND: Codes = codes(
    "InvalidInstanceId.NotFound",
    "ResourceNotFound.InstanceIdNotFound",
    "实例不存在",
);
const INSTANCE_WINDOWS: Codes = codes(
    "UnsupportedOperation.InstanceOsWindows",
    "UnsupportedOperation.WindowsNotAllowToAssociateKeyPair",
    "Windows 实例不支持密钥对",
);
const UNBIND_USERNAME_MISMATCH: Codes = codes(
    "InvalidParameterValue",
    "UnsupportedOperation.KeyPairUnbindUsernameMismatch",
    "解绑用户名与绑定时不一致",
);
const BINDING_TYPE_INVALID: Codes = codes(
    "InvalidParameterValue",
    "InvalidParameterValue",
    "参数取值错误",
);
const USERNAME_WITH_OFFLINE: Codes = codes(
    "InvalidParameterValue",
    "InvalidParameter.ParameterConflict",
    "参数冲突",
);
const KEY_PAIR_IN_USE: Codes = codes(
    "InvalidParameterValue.KeyPairNotSupported",
    "ResourceInUse.KeyPairInUse",
    "密钥对已绑定实例，无法删除",
);
const ALREADY_ASSOCIATED: Codes = codes(
    "InvalidParameterValue",
    "UnsupportedOperation.KeyPairBindDuplicate",
    "密钥对已绑定该实例",
);
const NOT_ASSOCIATED: Codes = codes(
    "InvalidParameterValue",
    "UnsupportedOperation.KeyPairNotBoundToInstance",
    "密钥对未绑定该实例",
);
const TOO_MANY_BINDINGS: Codes = codes(
    "InvalidParameterValue.LimitExceeded",
    "InvalidParameterValue.LimitExceeded",
    "绑定数量超过限制",
);
const NAME_TAKEN: Codes = codes(
    "InvalidKeyPairName.Duplicate",
    "InvalidParameterValue.DuplicateParameterValue",
    "密钥对名称已存在",
);
const PUBLIC_KEY_TAKEN: Codes = codes(
    "InvalidPublicKey.Duplicate",
    "InvalidParameterValue.KeyPairPublicKeyDuplicated",
    "公钥已存在",
);
const QUOTA_EXCEEDED: Codes = codes(
    "InvalidKeyPair.LimitExceeded",
    "LimitExceeded.KeyPairLimitExceeded",
    "密钥对数量超过限制",
);
const KEY_PAIR_NOT_FOUND: Codes = codes(
    "InvalidKeyPairId.NotFound",
    "ResourceNotFound.KeyIdNotFound",
    "密钥对不存在",
);
const IDS_WITH_FILTERS: Codes = codes(
    "InvalidParameterCombination",
    "InvalidParameter.ParameterConflict",
    "KeyIds 与 Filters 不能同时指定",
);
const LIMIT_OUT_OF_RANGE: Codes = codes(
    "InvalidParameterValueLimit",
    "InvalidParameterValue.OutOfRange",
    "Limit 取值超出范围",
);
const OFFSET_NEGATIVE: Codes = codes(
    "InvalidParameterValueOffset",
    "InvalidParameterValue.Negative",
    "Offset 不能为负数",
);
const FILTER_INVALID: Codes = codes(
    "InvalidFilter",
    "InvalidParameter.InvalidFilter",
    "过滤条件无效",
);
const TOO_MANY_FILTERS: Codes = codes(
    "InvalidParameterValue.LimitExceeded",
    "InvalidParameterValue.LimitExceeded",
    "过滤条件数量超过限制",
);
const TOO_MANY_FILTER_VALUES: Codes = codes(
    "InvalidFilterValue.LimitExceeded",
    "InvalidParameterValue.LimitExceeded",
    "过滤值数量超过限制",
);
const TOO_MANY_IDS: Codes = codes(
    "InvalidParameterValue.LimitExceeded",
    "InvalidParameterValue.LimitExceeded",
    "ID 数量超过限制",
);
const MISSING: Codes = codes("MissingParameter", "MissingParameter", "缺少参数");
const ID_REPEATED: Codes = codes(
    "InvalidParameterValue",
    "InvalidParameterValue.Duplicated",
    "参数值重复",
);
const NO_SUCH_ACTION: Codes = codes("InvalidAction", "InvalidAction", "接口不存在");

const STOP_CHARGING: Codes = codes(
    "UnsupportedOperation.StoppedModeStopCharging",
    "UnsupportedOperation.InvalidInstanceState",
    "不支持关机不收费的实例",
);

/// The one mapping table (docs/api.md lists it): each domain error's row of codes, or
/// `None` for a failure that is not the caller's doing, whose detail stays in the log.
/// One exhaustive match with no wildcard, so a variant added to the core does not
/// compile until it has its row here.
pub fn public_codes(err: &Error) -> Option<Codes> {
    use Error as E;
    Some(match err {
        E::KeyNameEmpty => NAME_EMPTY,
        E::KeyNameTooLong { .. } => NAME_TOO_LONG,
        E::KeyNameIllegalChar { .. } => NAME_ILLEGAL_CHAR,
        E::KeyIdMalformed { .. } => KEY_ID_MALFORMED,
        E::InstanceIdMalformed { .. } => INSTANCE_ID_MALFORMED,
        E::ProjectNotFound(_) => PROJECT_NOT_FOUND,
        E::ProjectIdInvalid(_) => PROJECT_INVALID,
        E::DescriptionTooLong { .. } => DESCRIPTION_TOO_LONG,
        E::DescriptionIllegalChar { .. } => DESCRIPTION_ILLEGAL_CHAR,
        E::PublicKeyMalformed(_) => PUBLIC_KEY_MALFORMED,
        E::InvalidUsername(_) => USERNAME_INVALID,
        E::TagResourceType(_) => TAG_RESOURCE_TYPE,
        E::TagKeyIllegal { .. } => TAG_KEY_ILLEGAL,
        E::TagValueIllegal { .. } => TAG_VALUE_ILLEGAL,
        E::DuplicateTagKey(_) => TAG_KEY_REPEATED,
        E::TagKeyReserved(_) => TAG_KEY_RESERVED,
        E::TooManyTags { .. } => TOO_MANY_TAGS,
        E::InstanceNotFound(_) => INSTANCE_NOT_FOUND,
        E::InstanceWindows(_) => INSTANCE_WINDOWS,
        E::InstanceState { state, .. } => instance_state_codes(*state),
        E::InstanceBusy { busy, .. } => busy_codes(*busy),
        E::InstanceStopCharging(_) => STOP_CHARGING,
        E::UnbindUsernameMismatch { .. } => UNBIND_USERNAME_MISMATCH,
        E::BindingTypeInvalid { .. } => BINDING_TYPE_INVALID,
        E::UsernameWithOffline { .. } => USERNAME_WITH_OFFLINE,
        E::KeyPairInUse { .. } => KEY_PAIR_IN_USE,
        E::AlreadyAssociated { .. } => ALREADY_ASSOCIATED,
        E::NotAssociated { .. } => NOT_ASSOCIATED,
        E::TooManyInstancesForKeyPair { .. } => TOO_MANY_BINDINGS,
        E::TooManyKeyPairsForInstance { .. } => TOO_MANY_BINDINGS,
        E::DuplicateName(_) => NAME_TAKEN,
        E::DuplicatePublicKey { .. } => PUBLIC_KEY_TAKEN,
        E::QuotaExceeded { .. } => QUOTA_EXCEEDED,
        E::KeyPairNotFound(_) => KEY_PAIR_NOT_FOUND,
        E::IdsWithFilters => IDS_WITH_FILTERS,
        E::LimitOutOfRange { .. } => LIMIT_OUT_OF_RANGE,
        E::OffsetNegative(_) => OFFSET_NEGATIVE,
        E::UnknownFilter { .. } => FILTER_INVALID,
        E::EmptyFilter(_) => FILTER_INVALID,
        E::InvalidFilterValue { .. } => FILTER_INVALID,
        E::TooManyFilters { .. } => TOO_MANY_FILTERS,
        E::TooManyFilterValues { .. } => TOO_MANY_FILTER_VALUES,
        E::TooManyIds { .. } => TOO_MANY_IDS,
        E::NoIds(_) | E::NothingToModify => MISSING,
        E::DuplicateId { .. } => ID_REPEATED,
        E::UnsupportedAction { .. } => NO_SUCH_ACTION,
        E::AccountIdMalformed(_) | E::KeyGeneration(_) | E::Storage(_) => return None,
    })
}

/// The codes for an instance in a state that refuses the operation: CVM has one code per
/// state (`UnsupportedOperation.InstanceStateRunning` …, each in CVM's `errorcodes.py`);
/// Lighthouse says the instance is still being created (`PENDING`) or in an invalid
/// state. `STOPPED` never refuses (the decision admits it); its row is CVM's own code for
/// the state, for a directory that reports it otherwise.
fn instance_state_codes(state: InstanceState) -> Codes {
    use InstanceState as S;
    const INVALID: &str = "UnsupportedOperation.InvalidInstanceState";
    const ZH: &str = "实例状态不支持该操作";
    let cvm = match state {
        S::Pending => "UnsupportedOperation.InstanceStatePending",
        S::LaunchFailed => "UnsupportedOperation.InstanceStateLaunchFailed",
        S::Running => "UnsupportedOperation.InstanceStateRunning",
        S::Stopped => "UnsupportedOperation.InstanceStateStopped",
        S::Starting => "UnsupportedOperation.InstanceStateStarting",
        S::Stopping => "UnsupportedOperation.InstanceStateStopping",
        S::Rebooting => "UnsupportedOperation.InstanceStateRebooting",
        S::Shutdown => "UnsupportedOperation.InstanceStateShutdown",
        S::Terminating => "UnsupportedOperation.InstanceStateTerminating",
        S::Isolating => "UnsupportedOperation.InstanceStateIsolating",
        S::Freezing => "UnsupportedOperation.InstanceStateFreezing",
        S::Banning => "UnsupportedOperation.InstanceStateBanning",
        S::EnterRescueMode => "UnsupportedOperation.InstanceStateEnterRescueMode",
        S::RescueMode => "UnsupportedOperation.InstanceStateRescueMode",
        S::ExitRescueMode => "UnsupportedOperation.InstanceStateExitRescueMode",
        S::EnterServiceLiveMigrate => "UnsupportedOperation.InstanceStateEnterServiceLiveMigrate",
        S::ServiceLiveMigrate => "UnsupportedOperation.InstanceStateServiceLiveMigrate",
        S::ExitServiceLiveMigrate => "UnsupportedOperation.InstanceStateExitServiceLiveMigrate",
    };
    let lighthouse = match state {
        S::Pending => "OperationDenied.InstanceCreating",
        _ => INVALID,
    };
    codes(cvm, lighthouse, ZH)
}

/// The codes for a busy instance: CVM's mutex code for a task of the same kind, and the
/// operation-in-progress code both products list; Lighthouse's own code for an
/// unfinished latest operation. Where a product has no code for the condition (CVM
/// defines no `LatestOperationUnfinished`, Lighthouse no `MutexOperation`), the
/// operation-in-progress code both list stands in (docs/api.md, "Instances").
fn busy_codes(busy: Busy) -> Codes {
    const IN_PROGRESS: &str = "OperationDenied.InstanceOperationInProgress";
    const ZH: &str = "实例正在执行其他操作";
    match busy {
        Busy::TaskRunning => codes("MutexOperation.TaskRunning", IN_PROGRESS, ZH),
        Busy::OperationInProgress => codes(IN_PROGRESS, IN_PROGRESS, ZH),
        Busy::LatestOperationUnfinished => codes(
            IN_PROGRESS,
            "UnsupportedOperation.LatestOperationUnfinished",
            ZH,
        ),
    }
}

/// The Tencent code of a domain error for a product, and its Chinese summary; an
/// internal failure's is the product's retryable internal code.
pub fn code_for(err: &Error, product: Product) -> (&'static str, &'static str) {
    match public_codes(err) {
        Some(c) => (c.of(product), c.zh),
        None => (crate::spec::spec(product).internal_error, "内部错误"),
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
/// typically because the shared database is unreachable: the retryable internal-error
/// code, never let through undecided; the cause is in [`ApiError::detail`].
pub fn undecided(port: &str, err: &keypair_core::StoreError, product: Product) -> ApiError {
    ApiError::internal(
        product,
        format!(
            "{port} could not decide; refusing the request: {}",
            keypair_core::error_chain(err)
        ),
    )
}

/// The answer for a domain error; an internal one keeps its cause for the log.
pub fn from_domain(err: &Error, product: Product) -> ApiError {
    if is_internal(err) {
        return ApiError::internal(product, keypair_core::error_chain(err));
    }
    let (code, zh) = code_for(err, product);
    ApiError::new(code, zh, err.to_string())
}
