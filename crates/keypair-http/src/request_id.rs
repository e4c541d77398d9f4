//! The RequestId each answer gets, from a source the host may replace: random by
//! default, a seeded sequence in a test suite's deterministic mode (`keypair-steer`).

/// Port: where RequestIds come from. Contract: each call returns a new id of the form
/// the real service uses (a lower-case UUID), cheaply and without blocking.
pub trait RequestIds: Send + Sync {
    /// The next RequestId.
    fn next_id(&self) -> String;
}

/// Fresh random (version 4) UUIDs: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomRequestIds;

impl RequestIds for RandomRequestIds {
    fn next_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}
