//! Character checks shared by the validated types: which characters no member takes, and
//! how a refused character is shown in a message.
//!
//! Control characters (Unicode `Cc`: U+0000–U+001F and U+007F–U+009F) are refused in
//! every free-text member and filter value. Tencent's rules allow none of them in any
//! member that has rules (names, tags, ids), and NUL in particular is text that
//! PostgreSQL cannot hold or compare: deciding here means every store answers the same.

/// The first control character of `text`, if any.
pub(crate) fn first_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

/// `c` as a message shows it: escaped if invisible, with its code point, `'\0' (U+0000)`.
pub(crate) fn shown(c: char) -> String {
    format!("{c:?} (U+{:04X})", u32::from(c))
}

/// At most 64 characters of a refused value, for the message, so an answer does not grow
/// with what the caller sent.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(64) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}
