//! The RequestId each answer gets.

/// A fresh random (version 4) UUID, lower case: the RequestId of one answer.
pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
