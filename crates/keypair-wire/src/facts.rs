//! What a host may log and count about a request, learned while the wire reads it, each
//! field bounded: the action (a known name, or `<unknown>` and a length), the product,
//! the account and the answer's language. Nothing an unauthenticated client sends reaches
//! these fields except through [`LoggedAction::of`].

use crate::error::Language;
use keypair_core::{Action, Product};

/// The facts of one request, filled in as far as the wire got.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The action as it may be logged.
    pub action: LoggedAction,
    /// The action, once it is known to be one of the product's.
    pub known_action: Option<Action>,
    /// The product, once `Version` named one.
    pub product: Option<Product>,
    /// The account, once the signature verified.
    pub account: Option<String>,
    /// The language the answer is in.
    pub language: Language,
}

impl Facts {
    /// The facts before anything is read but the `X-TC-Language` header (a legacy
    /// request's `Language` parameter may change the language later).
    pub fn new(headers: &http::HeaderMap) -> Self {
        let language = headers.get("x-tc-language").and_then(|v| v.to_str().ok());
        Facts {
            language: Language::from_tag(language),
            ..Facts::default()
        }
    }
}

/// An action name as logged: a known action's name, or `<unknown>` and the length of
/// what was sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoggedAction {
    /// No action was sent (or not read yet).
    #[default]
    Missing,
    /// One of the actions of either product.
    Known(&'static str),
    /// Something else, of this many bytes.
    Unknown(usize),
}

impl LoggedAction {
    /// The bounded form of a client-supplied action name.
    pub fn of(raw: &str) -> Self {
        Action::ALL
            .into_iter()
            .map(Action::name)
            .find(|name| *name == raw)
            .map_or(LoggedAction::Unknown(raw.len()), LoggedAction::Known)
    }

    /// The name to log and the length of what was sent (`-` and 0 when nothing was).
    pub fn name_and_len(self) -> (&'static str, usize) {
        match self {
            LoggedAction::Missing => ("-", 0),
            LoggedAction::Known(name) => (name, name.len()),
            LoggedAction::Unknown(len) => ("<unknown>", len),
        }
    }
}
