//! DescribeKeyPairs as data: typed filters, offset and limit, the describe order, and the
//! pure functions that evaluate them. The memory store and the conformance suite's model
//! both use these, so "what matches" has one definition.

use crate::{Error, KeyId, KeyPair, NameMatch, Product, ProjectId, Result};
use std::cmp::Ordering;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;

/// A filter as it arrives on the wire: a name and its values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawFilter {
    /// Filter name (`key-name`, `tag:env`…).
    pub name: String,
    /// Values; a key pair matches if it matches any.
    pub values: Vec<String>,
}

/// One validated filter. Values within a filter are ORed; filters are ANDed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filter {
    /// The id is one of these (`KeyIds` or Lighthouse `key-id`).
    KeyIds(Vec<KeyId>),
    /// The name equals (CVM) or contains (Lighthouse) one of these.
    Names(Vec<String>, NameMatch),
    /// The project is one of these (CVM `project-id`).
    Projects(Vec<ProjectId>),
    /// Some tag has one of these keys.
    TagKeys(Vec<String>),
    /// Some tag has one of these values.
    TagValues(Vec<String>),
    /// The tag `key` exists with one of these values (`tag:<key>`).
    Tag {
        /// The tag key.
        key: String,
        /// Accepted values.
        values: Vec<String>,
    },
}

impl Filter {
    /// Whether `kp` passes this filter.
    pub fn matches(&self, kp: &KeyPair) -> bool {
        match self {
            Filter::KeyIds(ids) => ids.contains(&kp.id),
            Filter::Names(names, NameMatch::Exact) => names.iter().any(|n| n == kp.name.as_str()),
            Filter::Names(names, NameMatch::Substring) => {
                names.iter().any(|n| kp.name.as_str().contains(n.as_str()))
            }
            Filter::Projects(ps) => ps.contains(&kp.project),
            Filter::TagKeys(keys) => kp
                .tags
                .as_slice()
                .iter()
                .any(|t| keys.iter().any(|k| k == t.key())),
            Filter::TagValues(vals) => kp
                .tags
                .as_slice()
                .iter()
                .any(|t| vals.iter().any(|v| v == t.value())),
            Filter::Tag { key, values } => kp
                .tags
                .get(key)
                .is_some_and(|v| values.iter().any(|x| x == v)),
        }
    }
}

/// A validated describe: filters, offset and limit. Its fields are private so that
/// every `Query` a store sees has passed the checks: build one with [`Query::parse`]
/// (from wire values) or [`Query::new`] (from typed filters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    filters: Vec<Filter>,
    offset: u64,
    limit: u32,
}

impl Query {
    /// Every key pair of the scope, first page of 100.
    pub fn all() -> Self {
        Query {
            filters: Vec::new(),
            offset: 0,
            limit: MAX_LIMIT,
        }
    }

    /// A query from typed filters (all must match), skipping `offset` matches and
    /// returning at most `limit`.
    ///
    /// # Errors
    /// [`Error::LimitOutOfRange`] unless `limit` is 1 to [`MAX_LIMIT`].
    pub fn new(filters: Vec<Filter>, offset: u64, limit: u32) -> Result<Self> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::LimitOutOfRange {
                value: i64::from(limit),
                max: MAX_LIMIT,
            });
        }
        Ok(Query {
            filters,
            offset,
            limit,
        })
    }

    /// The filters; all must match.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Matches to skip.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Most matches to return, 1 to [`MAX_LIMIT`].
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Whether `kp` passes every filter.
    pub fn matches(&self, kp: &KeyPair) -> bool {
        self.filters.iter().all(|f| f.matches(kp))
    }

    /// Validates a DescribeKeyPairs request for `product`, in the order the spec
    /// implies: KeyIds with Filters, Offset, Limit, the ids, then the filters.
    pub fn parse(
        product: Product,
        key_ids: Option<&[String]>,
        filters: Option<&[RawFilter]>,
        offset: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Self> {
        let spec = product.spec();
        if key_ids.is_some_and(|k| !k.is_empty()) && filters.is_some_and(|f| !f.is_empty()) {
            return Err(Error::IdsWithFilters);
        }
        let offset = offset.unwrap_or(0);
        let offset = u64::try_from(offset).map_err(|_| Error::OffsetNegative(offset))?;
        let limit = limit.unwrap_or(i64::from(DEFAULT_LIMIT));
        let limit = u32::try_from(limit)
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or(Error::LimitOutOfRange {
                value: limit,
                max: MAX_LIMIT,
            })?;
        let mut parsed = Vec::new();
        if let Some(ids) = key_ids.filter(|k| !k.is_empty()) {
            parsed.push(Filter::KeyIds(parse_key_ids(
                product,
                "KeyIds",
                ids,
                spec.max_describe_ids,
            )?));
        }
        let filters = filters.unwrap_or_default();
        if filters.len() > spec.max_filters {
            return Err(Error::TooManyFilters {
                given: filters.len(),
                max: spec.max_filters,
            });
        }
        for f in filters {
            parsed.push(parse_filter(product, f)?);
        }
        Ok(Query {
            filters: parsed,
            offset,
            limit,
        })
    }
}

/// Validates an id list: not empty, not over `max`, each id well-formed, repeats either
/// rejected (Lighthouse) or folded (CVM). Order is kept.
pub fn parse_key_ids(
    product: Product,
    what: &'static str,
    ids: &[String],
    max: usize,
) -> Result<Vec<KeyId>> {
    parse_ids(product, what, ids, max, KeyId::parse)
}

/// [`parse_key_ids`] for any id type.
pub(crate) fn parse_ids<T: PartialEq>(
    product: Product,
    what: &'static str,
    ids: &[String],
    max: usize,
    parse: fn(Product, &str) -> Result<T>,
) -> Result<Vec<T>> {
    if ids.is_empty() {
        return Err(Error::NoIds(what));
    }
    if ids.len() > max {
        return Err(Error::TooManyIds {
            what,
            given: ids.len(),
            max,
        });
    }
    let mut out: Vec<T> = Vec::with_capacity(ids.len());
    for raw in ids {
        let id = parse(product, raw)?;
        if out.contains(&id) {
            if product.spec().reject_duplicate_ids {
                return Err(Error::DuplicateId {
                    what,
                    id: raw.clone(),
                });
            }
            continue;
        }
        out.push(id);
    }
    Ok(out)
}

/// A control character in a filter's name (a `tag:` key) or values: refused here, since
/// no key pair holds one and PostgreSQL cannot compare NUL (`text.rs`).
fn refuse_control(raw: &RawFilter) -> Result<()> {
    let texts = std::iter::once(&raw.name).chain(&raw.values);
    for text in texts {
        if let Some(c) = crate::text::first_control(text) {
            return Err(Error::InvalidFilterValue {
                name: crate::text::clip(&raw.name),
                value: crate::text::clip(text),
                reason: format!(
                    "it contains {}, a control character, which no key pair holds",
                    crate::text::shown(c)
                ),
            });
        }
    }
    Ok(())
}

fn parse_filter(product: Product, raw: &RawFilter) -> Result<Filter> {
    let spec = product.spec();
    let name = raw.name.as_str();
    let tag_key = name.strip_prefix("tag:");
    if tag_key.is_none() && !spec.filter_names.contains(&name) {
        return Err(Error::UnknownFilter {
            name: raw.name.clone(),
            supported: format!("{}, tag:<tag-key>", spec.filter_names.join(", ")),
        });
    }
    if raw.values.is_empty() {
        return Err(Error::EmptyFilter(raw.name.clone()));
    }
    if raw.values.len() > spec.max_filter_values {
        return Err(Error::TooManyFilterValues {
            name: raw.name.clone(),
            given: raw.values.len(),
            max: spec.max_filter_values,
        });
    }
    let values = raw.values.clone();
    let invalid = |value: &str, reason: &str| Error::InvalidFilterValue {
        name: crate::text::clip(&raw.name),
        value: crate::text::clip(value),
        reason: reason.to_owned(),
    };
    refuse_control(raw)?;
    if let Some(key) = tag_key {
        if key.is_empty() {
            return Err(invalid(name, "the tag key after `tag:` is empty"));
        }
        return Ok(Filter::Tag {
            key: key.to_owned(),
            values,
        });
    }
    Ok(match name {
        "key-id" => Filter::KeyIds(
            values
                .iter()
                .map(|v| KeyId::parse(product, v))
                .collect::<Result<_>>()?,
        ),
        "key-name" => Filter::Names(values, spec.name_match),
        "project-id" => Filter::Projects(
            values
                .iter()
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map(ProjectId::new)
                        .map_err(|_| invalid(v, "a project id is a non-negative integer"))
                })
                .collect::<Result<_>>()?,
        ),
        "tag-key" => Filter::TagKeys(values),
        "tag-value" => Filter::TagValues(values),
        _ => unreachable!("filter names were checked against the product spec"),
    })
}

/// The describe order: newest first, ties by id ascending. Every store returns pages in
/// this order, which makes paging consistent.
pub fn describe_order(a: &KeyPair, b: &KeyPair) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| a.id.cmp(&b.id))
}

/// One page of matches and the number of all matches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// Matches across all pages.
    pub total: u64,
    /// This page, in describe order.
    pub items: Vec<KeyPair>,
}

/// One page of `query` over a scope's key pairs already in describe order (`len` of
/// them): for stores that keep their key pairs sorted, so a page without filters is a
/// slice and a filtered one a single pass.
pub fn page_in_order<'a>(
    query: &Query,
    in_order: impl Iterator<Item = &'a KeyPair>,
    len: usize,
) -> Page {
    let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
    let limit = query.limit as usize;
    if query.filters.is_empty() {
        return Page {
            total: len as u64,
            items: in_order.skip(offset).take(limit).cloned().collect(),
        };
    }
    let mut total = 0u64;
    let mut items = Vec::new();
    for kp in in_order.filter(|kp| query.matches(kp)) {
        if total as usize >= offset && items.len() < limit {
            items.push(kp.clone());
        }
        total += 1;
    }
    Page { total, items }
}

/// Evaluates `query` over key pairs of one scope: the reference semantics every store
/// must reproduce.
pub fn evaluate<'a>(query: &Query, key_pairs: impl IntoIterator<Item = &'a KeyPair>) -> Page {
    let mut matches: Vec<&KeyPair> = key_pairs
        .into_iter()
        .filter(|kp| query.matches(kp))
        .collect();
    matches.sort_by(|a, b| describe_order(a, b));
    let total = matches.len() as u64;
    let items = matches
        .into_iter()
        .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
        .take(query.limit as usize)
        .cloned()
        .collect();
    Page { total, items }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, values: &[&str]) -> RawFilter {
        RawFilter {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn validation_order_and_defaults() {
        let q = Query::parse(Product::Cvm, None, None, None, None).unwrap();
        assert_eq!((q.offset, q.limit), (0, 20));
        let ids = vec!["skey-11112222".to_string()];
        let filters = vec![f("key-name", &["a"])];
        assert!(matches!(
            Query::parse(Product::Cvm, Some(&ids), Some(&filters), Some(-1), Some(0)),
            Err(Error::IdsWithFilters)
        ));
        assert!(matches!(
            Query::parse(Product::Cvm, None, None, Some(-1), Some(0)),
            Err(Error::OffsetNegative(-1))
        ));
        for bad in [0, 101, -5, 1_000_000_000_000] {
            assert!(matches!(
                Query::parse(Product::Cvm, None, None, None, Some(bad)),
                Err(Error::LimitOutOfRange { .. })
            ));
        }
        assert!(Query::parse(Product::Cvm, None, None, None, Some(100)).is_ok());
    }

    #[test]
    fn filter_names_are_per_product() {
        let cvm_only = vec![f("project-id", &["0"])];
        let lh_only = vec![f("key-id", &["lhkp-1234abcd"])];
        assert!(Query::parse(Product::Cvm, None, Some(&cvm_only), None, None).is_ok());
        assert!(matches!(
            Query::parse(Product::Lighthouse, None, Some(&cvm_only), None, None),
            Err(Error::UnknownFilter { .. })
        ));
        assert!(Query::parse(Product::Lighthouse, None, Some(&lh_only), None, None).is_ok());
        assert!(matches!(
            Query::parse(Product::Cvm, None, Some(&lh_only), None, None),
            Err(Error::UnknownFilter { .. })
        ));
        let tag = vec![f("tag:env", &["prod"])];
        assert!(Query::parse(Product::Cvm, None, Some(&tag), None, None).is_ok());
        let bad_project = vec![f("project-id", &["x"])];
        assert!(matches!(
            Query::parse(Product::Cvm, None, Some(&bad_project), None, None),
            Err(Error::InvalidFilterValue { .. })
        ));
    }

    #[test]
    fn limits_on_filters_values_and_ids() {
        let many: Vec<RawFilter> = (0..11).map(|_| f("tag-key", &["a"])).collect();
        assert!(matches!(
            Query::parse(Product::Cvm, None, Some(&many), None, None),
            Err(Error::TooManyFilters { given: 11, max: 10 })
        ));
        let wide = vec![f("tag-key", &["a", "b", "c", "d", "e", "f"])];
        assert!(matches!(
            Query::parse(Product::Lighthouse, None, Some(&wide), None, None),
            Err(Error::TooManyFilterValues { .. })
        ));
        let ids: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
        assert!(matches!(
            Query::parse(Product::Cvm, Some(&ids), None, None, None),
            Err(Error::TooManyIds { given: 101, .. })
        ));
        let dup = vec!["lhkp-1234abcd".to_string(), "lhkp-1234abcd".to_string()];
        assert!(matches!(
            parse_key_ids(Product::Lighthouse, "KeyIds", &dup, 10),
            Err(Error::DuplicateId { .. })
        ));
        let dup_cvm = vec!["skey-1234abcd".to_string(), "skey-1234abcd".to_string()];
        assert_eq!(
            parse_key_ids(Product::Cvm, "KeyIds", &dup_cvm, 10)
                .unwrap()
                .len(),
            1
        );
    }
}
