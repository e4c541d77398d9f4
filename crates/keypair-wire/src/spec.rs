//! What differs between CVM and Lighthouse on the wire, as data: one [`WireSpec`] per
//! product, and the rate each action is admitted at ([`RateLimits`], the configured
//! overrides of the documented rates). The rest of this crate reads these fields and
//! never matches on the product; a new product is a new spec (and a code in each row of
//! the error table of [`crate::error`]). What the domain needs to know about a product
//! (id prefixes, limits, which actions exist) stays in `keypair_core::ProductSpec`.

use keypair_core::{Action, Product};

/// One row of the error table ([`crate::error::public_codes`]): a domain error's code on
/// each product, and its Chinese summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codes {
    /// The CVM code.
    pub cvm: &'static str,
    /// The Lighthouse code.
    pub lighthouse: &'static str,
    /// The Chinese summary that starts the Chinese message.
    pub zh: &'static str,
}

impl Codes {
    /// The code on `product`: each product's [`WireSpec::code`] picks its own.
    pub fn of(&self, product: Product) -> &'static str {
        (spec(product).code)(self)
    }
}

/// Requests per second per (account, action), by product. `None` takes the spec's
/// per-action figure (§2.10); `Some(0)` turns limiting off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Every CVM action.
    pub cvm: Option<u32>,
    /// Every Lighthouse action.
    pub lighthouse: Option<u32>,
}

impl RateLimits {
    /// No limiting on either product: a test suite sets its own pace, and tests
    /// `RequestLimitExceeded` with an injected fault instead of a race with a clock.
    pub const OFF: RateLimits = RateLimits {
        cvm: Some(0),
        lighthouse: Some(0),
    };

    /// The rate for an action, or `None` for unlimited.
    pub fn rate(&self, product: Product, action: Action) -> Option<u32> {
        let wire = spec(product);
        (wire.configured_rate)(self)
            .or_else(|| wire.documented_rate(action))
            .filter(|r| *r > 0)
    }
}

/// How a product's Create and Import take tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagsParameter {
    /// `TagSpecification: [{ResourceType: "keypair", Tags: [{Key, Value}]}]` (CVM).
    Specification,
    /// `Tags: [{Key, Value}]` (Lighthouse).
    Plain,
}

/// The wire facts of one product.
#[derive(Debug)]
pub struct WireSpec {
    /// The product.
    pub product: Product,
    /// This product's code in a row of the error table.
    pub code: fn(&Codes) -> &'static str,
    /// The code of an internal failure (the retryable one).
    pub internal_error: &'static str,
    /// Documented requests per second per action (spec §2.10), for the actions the
    /// product has.
    pub rates: &'static [(Action, u32)],
    /// Where `[limits]` configures one rate for every action of the product.
    pub configured_rate: fn(&RateLimits) -> Option<u32>,
    /// Parameters Create and Import take besides `KeyName` (and Import's `PublicKey`).
    pub new_key_pair_params: &'static [&'static str],
    /// Whether Create and Import require `ProjectId`.
    pub requires_project: bool,
    /// How tags arrive.
    pub tags: TagsParameter,
    /// Whether a key pair's answer has `ProjectId` and `Description`.
    pub key_pair_project_and_description: bool,
    /// Whether a key pair's answer has `AssociatedInstanceSet` (instance and username)
    /// and always a `PrivateKey` member (null but in the answer to a create).
    pub key_pair_instance_set: bool,
}

/// CVM (2017-03-12).
pub static CVM: WireSpec = WireSpec {
    product: Product::Cvm,
    code: |c| c.cvm,
    internal_error: "InternalServerError",
    rates: &[
        (Action::Create, 10),
        (Action::Import, 10),
        (Action::Describe, 10),
        (Action::Delete, 10),
        (Action::Modify, 10),
        (Action::Associate, 10),
        (Action::Disassociate, 10),
    ],
    configured_rate: |l| l.cvm,
    new_key_pair_params: &["ProjectId", "TagSpecification"],
    requires_project: true,
    tags: TagsParameter::Specification,
    key_pair_project_and_description: true,
    key_pair_instance_set: false,
};

/// Lighthouse (2020-03-24).
pub static LIGHTHOUSE: WireSpec = WireSpec {
    product: Product::Lighthouse,
    code: |c| c.lighthouse,
    internal_error: "InternalError",
    rates: &[
        (Action::Create, 20),
        (Action::Import, 10),
        (Action::Describe, 100),
        (Action::Delete, 10),
        (Action::Associate, 10),
        (Action::Disassociate, 20),
    ],
    configured_rate: |l| l.lighthouse,
    new_key_pair_params: &["Tags"],
    requires_project: false,
    tags: TagsParameter::Plain,
    key_pair_project_and_description: false,
    key_pair_instance_set: true,
};

/// The wire facts of `product`: the one place this crate matches on a product.
pub fn spec(product: Product) -> &'static WireSpec {
    match product {
        Product::Cvm => &CVM,
        Product::Lighthouse => &LIGHTHOUSE,
    }
}

impl WireSpec {
    /// The documented rate of `action`, if the product has it.
    pub fn documented_rate(&self, action: Action) -> Option<u32> {
        self.rates
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, rate)| *rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire's rates and the domain's list of actions agree: every action a product
    /// has is rated, and no other.
    #[test]
    fn every_action_the_product_has_has_a_rate() {
        for wire in [&CVM, &LIGHTHOUSE] {
            assert!(std::ptr::eq(spec(wire.product), wire));
            for action in Action::ALL {
                assert_eq!(
                    wire.documented_rate(action).is_some(),
                    wire.product.spec().has_action(action),
                    "{} {action:?}",
                    wire.product
                );
            }
        }
        assert_eq!(LIGHTHOUSE.documented_rate(Action::Describe), Some(100));
    }

    #[test]
    fn configured_rates_override_and_zero_disables() {
        let limits = RateLimits {
            cvm: Some(2),
            lighthouse: Some(0),
        };
        assert_eq!(limits.rate(Product::Cvm, Action::Describe), Some(2));
        assert_eq!(limits.rate(Product::Lighthouse, Action::Create), None);
        let documented = RateLimits::default();
        assert_eq!(documented.rate(Product::Cvm, Action::Create), Some(10));
        assert_eq!(
            documented.rate(Product::Lighthouse, Action::Describe),
            Some(100)
        );
    }
}
