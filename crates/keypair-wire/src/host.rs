//! The `Host` header, parsed in one place: what a client signed (TC3 and legacy
//! signatures cover it), and which product an endpoint name like
//! `cvm.tencentcloudapi.com` stands for.
//!
//! Clients differ in what they send and sign (spec §4.3–4.5): Python, Go and tccli sign
//! the header verbatim (tccli sends `Host: http://…`), Node signs it without its port.

use http::{header, HeaderMap};
use keypair_core::Product;

/// A request's `Host` header as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host<'a>(&'a str);

impl<'a> Host<'a> {
    /// The header of `headers`, if present and text.
    pub fn of(headers: &'a HeaderMap) -> Option<Self> {
        headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(Host)
    }

    /// A host as given (for signatures computed over a header value).
    pub fn new(raw: &'a str) -> Self {
        Host(raw)
    }

    /// As received.
    pub fn as_sent(self) -> &'a str {
        self.0
    }

    /// Without an `http://` or `https://` prefix.
    pub fn bare(self) -> &'a str {
        self.0
            .strip_prefix("http://")
            .or_else(|| self.0.strip_prefix("https://"))
            .unwrap_or(self.0)
    }

    /// The strings a client may have signed, in the order to try them: as received,
    /// then without the port (when there is one).
    pub fn signed_candidates(self) -> Vec<&'a str> {
        let mut v = vec![self.0];
        if let Some((name, port)) = self.bare().rsplit_once(':') {
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                v.push(name);
            }
        }
        v
    }

    /// The product a dotted endpoint name starts with (`cvm.…`, `lighthouse.…`), if any.
    pub fn product(self) -> Option<Product> {
        let bare = self.bare();
        bare.contains('.')
            .then(|| bare.split('.').next())
            .flatten()
            .and_then(Product::from_service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_candidates_are_as_sent_then_without_the_port() {
        assert_eq!(
            Host::new("127.0.0.1:8080").signed_candidates(),
            vec!["127.0.0.1:8080", "127.0.0.1"]
        );
        assert_eq!(
            Host::new("http://127.0.0.1:8080").signed_candidates(),
            vec!["http://127.0.0.1:8080", "127.0.0.1"]
        );
        assert_eq!(
            Host::new("cvm.tencentcloudapi.com").signed_candidates(),
            vec!["cvm.tencentcloudapi.com"]
        );
    }

    #[test]
    fn endpoint_names_name_their_product() {
        assert_eq!(
            Host::new("cvm.tencentcloudapi.com").product(),
            Some(crate::spec::CVM.product)
        );
        assert_eq!(
            Host::new("https://lighthouse.tencentcloudapi.com").product(),
            Some(crate::spec::LIGHTHOUSE.product)
        );
        assert_eq!(
            Host::new("cvm").product(),
            None,
            "a bare word is not an endpoint"
        );
        assert_eq!(Host::new("127.0.0.1:8080").product(), None);
    }
}
