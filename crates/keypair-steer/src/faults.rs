//! Injected faults: rules a test suite adds through the admin API, each matching calls by
//! product, action, account or SecretId, firing with a probability (from a seeded stream,
//! so a run repeats) for a number of times, with one effect: a Tencent error, a delay or
//! a dropped connection, instead of the call or after it ran.
//!
//! Bounds: at most [`MAX_RULES`] rules; a delay of at most [`MAX_LATENCY_MS`]; a message
//! of at most [`MAX_MESSAGE_CHARS`]. An error's code must be one the product defines (its
//! `errorcodes.py`, or API 3.0's common list: [`keypair_wire::codes::is_defined`]), so a
//! suite never tests its client against an answer the real service cannot give.

use keypair_core::{AccountId, Action, Product};
use keypair_http::Effect;
use keypair_wire::ApiError;
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// Most rules at once.
pub const MAX_RULES: usize = 100;
/// The longest delay a rule may ask for: [`keypair_http::hook::MAX_DELAY`].
pub const MAX_LATENCY_MS: u64 = 60_000;
/// Most characters of an injected error's message.
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// A rule as a suite sends it (`POST /_keypaird/faults`). Every matcher left out matches
/// anything; exactly one of `Error`, `LatencyMs` and `Drop` is the effect.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RuleSpec {
    /// `cvm` or `lighthouse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// An action name, `CreateKeyPair`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The caller's account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The SecretId that signed the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
    /// The chance that a matching call fires the rule, in (0, 1]; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// The seed of the rule's draws; default: the server's `--seed`, else random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// How many times the rule fires before it is removed; default: until deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// `before` (instead of the call, the default) or `after` (once the call ran, the
    /// store written, instead of its answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Answer with this error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSpec>,
    /// Wait this many milliseconds, then go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<bool>,
}

/// An injected error: a code and, optionally, its English message.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ErrorSpec {
    /// The Tencent code, one the product defines.
    pub code: String,
    /// The message (English; the Chinese one carries it too). Default: says the error
    /// was injected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a rule was refused.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A field's value is not one the rule takes.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong and what to send instead.
        reason: String,
    },
    /// The code is not one the product defines.
    #[error(
        "Error.Code: {product} does not define {code} (not in its errorcodes.py, nor among \
         API 3.0's common codes); inject a code the real service can answer"
    )]
    UndefinedCode {
        /// The code.
        code: String,
        /// The product, or both.
        product: String,
    },
    /// [`MAX_RULES`] rules are in place.
    #[error("{MAX_RULES} rules are in place, the most there may be; delete some first")]
    TooMany,
}

/// When a rule's effect applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Instead of the call.
    Before,
    /// After the call ran, instead of its answer.
    After,
}

/// A rule's effect.
#[derive(Clone, Debug)]
enum Fault {
    /// The code as the product's list spells it, and the message.
    Error(&'static str, Option<String>),
    Latency(Duration),
    Drop,
}

/// What a rule matches.
#[derive(Clone, Debug, Default)]
struct Matcher {
    product: Option<Product>,
    action: Option<Action>,
    account: Option<AccountId>,
    secret_id: Option<String>,
}

impl Matcher {
    fn matches(&self, call: &keypair_http::Call) -> bool {
        self.product.is_none_or(|p| p == call.product)
            && self.action.is_none_or(|a| a == call.action)
            && self.account.as_ref().is_none_or(|a| *a == call.account)
            && self
                .secret_id
                .as_deref()
                .is_none_or(|s| s == call.secret_id)
    }
}

/// One rule in force.
struct Rule {
    id: u64,
    spec: RuleSpec,
    matcher: Matcher,
    when: When,
    fault: Fault,
    probability: f64,
    draws: ChaCha20Rng,
    remaining: Option<u32>,
    fired: u64,
}

impl Rule {
    /// Whether a matching call fires the rule now (a draw is taken only for a match, so a
    /// seeded rule fires on the same calls of the same session).
    fn fires(&mut self) -> bool {
        if self.remaining == Some(0) {
            return false;
        }
        // 53 random bits as a fraction in [0, 1).
        let draw = (self.draws.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if draw >= self.probability {
            return false;
        }
        self.remaining = self.remaining.map(|n| n - 1);
        self.fired += 1;
        true
    }

    fn listed(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.spec).unwrap_or_default();
        v["Id"] = self.id.into();
        v["Fired"] = self.fired.into();
        if let Some(n) = self.remaining {
            v["Remaining"] = n.into();
        }
        v
    }
}

/// The rules of one server.
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    next_id: Mutex<u64>,
    default_seed: Option<u64>,
}

/// A fired rule's effect, with what the log and the metrics call it.
pub struct Fired {
    /// The effect for the HTTP shell.
    pub effect: Effect,
    /// `error`, `latency` or `drop`.
    pub kind: &'static str,
    /// The rule's id.
    pub rule: u64,
}

impl Faults {
    /// No rules; rules without a seed of their own draw from `default_seed` (the
    /// server's `--seed`) or, without one, from the OS.
    pub fn new(default_seed: Option<u64>) -> Self {
        Faults {
            rules: Mutex::new(Vec::new()),
            next_id: Mutex::new(1),
            default_seed,
        }
    }

    /// Checks and adds a rule; returns its id.
    pub fn add(&self, spec: RuleSpec) -> Result<u64, RuleError> {
        let rule = self.check(spec)?;
        let mut rules = lock(&self.rules);
        if rules.len() >= MAX_RULES {
            return Err(RuleError::TooMany);
        }
        let id = rule.id;
        rules.push(rule);
        Ok(id)
    }

    /// Every rule in force, in the order they are tried.
    pub fn list(&self) -> Vec<serde_json::Value> {
        lock(&self.rules).iter().map(Rule::listed).collect()
    }

    /// Deletes one rule; whether it existed.
    pub fn delete(&self, id: u64) -> bool {
        let mut rules = lock(&self.rules);
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    /// Deletes every rule; how many there were.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut *lock(&self.rules)).len()
    }

    /// The first rule for `when` that matches `call` and fires, if any. A rule whose
    /// count is spent is removed.
    pub fn fire(&self, call: &keypair_http::Call, when: When) -> Option<Fired> {
        let mut rules = lock(&self.rules);
        let index = rules
            .iter_mut()
            .position(|r| r.when == when && r.matcher.matches(call) && r.fires())?;
        let rule = &rules[index];
        let fired = Fired {
            effect: effect(&rule.fault, call.product),
            kind: match rule.fault {
                Fault::Error(..) => "error",
                Fault::Latency(_) => "latency",
                Fault::Drop => "drop",
            },
            rule: rule.id,
        };
        if rule.remaining == Some(0) {
            rules.remove(index);
        }
        Some(fired)
    }

    fn check(&self, spec: RuleSpec) -> Result<Rule, RuleError> {
        let matcher = matcher(&spec)?;
        let fault = fault(&spec, matcher.product)?;
        let probability = spec.probability.unwrap_or(1.0);
        if !(probability > 0.0 && probability <= 1.0) {
            return Err(invalid(
                "Probability",
                format!("{probability} is not in (0, 1]; give a chance such as 0.5"),
            ));
        }
        let when = match spec.when.as_deref() {
            None | Some("before") => When::Before,
            Some("after") => When::After,
            Some(other) => {
                return Err(invalid(
                    "When",
                    format!("{other:?}; use \"before\" or \"after\""),
                ))
            }
        };
        if spec.times == Some(0) {
            return Err(invalid(
                "Times",
                "0 would never fire; give 1 or more, or leave it out".into(),
            ));
        }
        let seed = spec
            .seed
            .or(self.default_seed)
            .unwrap_or_else(|| OsRng.next_u64());
        let mut next = lock(&self.next_id);
        let id = *next;
        *next += 1;
        Ok(Rule {
            id,
            remaining: spec.times,
            spec,
            matcher,
            when,
            fault,
            probability,
            draws: ChaCha20Rng::seed_from_u64(seed),
            fired: 0,
        })
    }
}

fn invalid(field: &'static str, reason: String) -> RuleError {
    RuleError::Invalid { field, reason }
}

fn matcher(spec: &RuleSpec) -> Result<Matcher, RuleError> {
    let product = match spec.product.as_deref() {
        None => None,
        Some(p) => Some(
            p.parse::<Product>()
                .map_err(|e| invalid("Product", e.to_string()))?,
        ),
    };
    let action = match spec.action.as_deref() {
        None => None,
        Some(name) => Some(
            Action::ALL
                .into_iter()
                .find(|a| a.name() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                    invalid(
                        "Action",
                        format!("{name:?} is not an action; use one of {}", names.join(", ")),
                    )
                })?,
        ),
    };
    let account = match spec.account.as_deref() {
        None => None,
        Some(a) => Some(AccountId::parse(a).map_err(|e| invalid("Account", e.to_string()))?),
    };
    Ok(Matcher {
        product,
        action,
        account,
        secret_id: spec.secret_id.clone(),
    })
}

fn fault(spec: &RuleSpec, product: Option<Product>) -> Result<Fault, RuleError> {
    let dropped = spec.drop == Some(true);
    match (&spec.error, spec.latency_ms, dropped) {
        (Some(error), None, false) => {
            let code = check_code(&error.code, product)?;
            let long = error
                .message
                .as_ref()
                .is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS);
            if long {
                return Err(invalid(
                    "Error.Message",
                    format!("longer than {MAX_MESSAGE_CHARS} characters"),
                ));
            }
            Ok(Fault::Error(code, error.message.clone()))
        }
        (None, Some(ms), false) if ms <= MAX_LATENCY_MS => {
            Ok(Fault::Latency(Duration::from_millis(ms)))
        }
        (None, Some(ms), false) => Err(invalid(
            "LatencyMs",
            format!("{ms} is over the most a rule may delay, {MAX_LATENCY_MS}"),
        )),
        (None, None, true) => Ok(Fault::Drop),
        _ => Err(invalid(
            "Error, LatencyMs, Drop",
            "give exactly one effect: an Error, a LatencyMs, or Drop: true".into(),
        )),
    }
}

/// The code as the product's list spells it: it must be defined for the rule's product,
/// or for both when the rule names none (it may then fire on either).
fn check_code(code: &str, product: Option<Product>) -> Result<&'static str, RuleError> {
    let products: Vec<Product> = product.map_or(Product::ALL.to_vec(), |p| vec![p]);
    let mut found = None;
    for p in &products {
        match keypair_wire::codes::defined(*p, code) {
            Some(c) => found = Some(c),
            None => {
                return Err(RuleError::UndefinedCode {
                    code: code.to_owned(),
                    product: match product {
                        Some(_) => p.to_string(),
                        None => {
                            format!("{p} (the rule names no product, so it must hold for both)")
                        }
                    },
                })
            }
        }
    }
    found.ok_or_else(|| invalid("Error.Code", "no product to check it against".into()))
}

/// The effect of a fault on a call of `product`.
fn effect(fault: &Fault, product: Product) -> Effect {
    match fault {
        Fault::Latency(d) => Effect::Delay(*d),
        Fault::Drop => Effect::Drop,
        Fault::Error(code, message) => {
            let en = message.clone().unwrap_or_else(|| {
                format!("{code}, injected by a fault rule of keypaird's test mode ({product})")
            });
            Effect::Answer(ApiError::new(code, "测试注入的故障", en))
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
