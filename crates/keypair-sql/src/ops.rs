//! The `KeyPairStore` operations in SQL. Each function runs inside the caller's
//! transaction: checks first, in the precedence the port documents, then writes.

use crate::tx::{Dialect, Row, Tx, Value};
use keypair_core::{
    check_associate, AccountId, Association, Change, Description, Filter, Fingerprint, InstanceId,
    KeyId, KeyName, KeyPair, NameMatch, Page, Product, ProjectId, PublicKey, Query,
    RepeatedBinding, Scope, StoreError, Tag, Tags, Timestamp, Unbind,
};
use std::collections::HashMap;

/// The columns of `key_pairs`, in the order [`key_pair_row`] writes them and
/// [`assemble`] reads them: the one place they are listed.
const KEY_PAIR_COLUMNS: [&str; 10] = [
    "key_id",
    "account",
    "product",
    "name",
    "project_id",
    "description",
    "public_key",
    "fingerprint",
    "key_bits",
    "created_ms",
];

/// `k.key_id, k.account, …`: the select list of a key pair row.
static COLUMNS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| KEY_PAIR_COLUMNS.map(|c| format!("k.{c}")).join(", "));

/// `key_pairs (key_id, account, …)`: the target of a key pair row insert.
static KEY_PAIR_TARGET: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("key_pairs ({})", KEY_PAIR_COLUMNS.join(", ")));

/// A key pair's `key_pairs` row, in [`KEY_PAIR_COLUMNS`] order.
fn key_pair_row(kp: &KeyPair) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        kp.id.as_str().into(),
        kp.account.as_str().into(),
        kp.product().as_str().into(),
        kp.name.as_str().into(),
        project_value(kp.project)?,
        kp.description.as_str().into(),
        kp.public_key.as_openssh().into(),
        kp.public_key.fingerprint().as_str().into(),
        Value::Int(kp.public_key.bits() as i64),
        kp.created_at.as_millis().into(),
    ])
}
const ORDER: &str = "ORDER BY k.created_ms DESC, k.key_id ASC";

/// Parameters of one statement, numbered as they are bound.
#[derive(Default)]
struct Params(Vec<Value>);

impl Params {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }

    fn list<T: Into<Value>>(&mut self, items: impl IntoIterator<Item = T>) -> String {
        items
            .into_iter()
            .map(|v| self.bind(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn scope(&mut self, scope: &Scope) -> String {
        format!(
            "k.account = {} AND k.product = {}",
            self.bind(scope.account.as_str()),
            self.bind(scope.product.as_str())
        )
    }
}

fn ids_of(ids: &[KeyId]) -> impl Iterator<Item = &str> {
    ids.iter().map(KeyId::as_str)
}

async fn exists(tx: &mut dyn Tx, sql: &str, params: &[Value]) -> Result<bool, StoreError> {
    Ok(!tx.query(sql, params).await?.is_empty())
}

/// The ids among `ids` that exist in the scope.
async fn existing_ids(
    tx: &mut dyn Tx,
    scope: &Scope,
    ids: &[KeyId],
) -> Result<Vec<String>, StoreError> {
    let mut p = Params::default();
    let sql = format!(
        "SELECT k.key_id FROM key_pairs k WHERE {} AND k.key_id IN ({})",
        p.scope(scope),
        p.list(ids_of(ids))
    );
    tx.query(&sql, &p.0)
        .await?
        .iter()
        .map(|r| r.text(0))
        .collect()
}

async fn require_all(tx: &mut dyn Tx, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
    let found = existing_ids(tx, scope, ids).await?;
    let missing: Vec<KeyId> = ids
        .iter()
        .filter(|id| !found.iter().any(|f| f == id.as_str()))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::NotFound(missing))
    }
}

/// (key id, instance id) pairs bound among these keys, optionally only these instances.
async fn bindings(
    tx: &mut dyn Tx,
    keys: &[KeyId],
    instances: Option<&[InstanceId]>,
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    let mut p = Params::default();
    let mut sql = format!(
        "SELECT key_id, instance_id, username FROM key_pair_instances WHERE key_id IN ({})",
        p.list(ids_of(keys))
    );
    if let Some(instances) = instances {
        sql.push_str(&format!(
            " AND instance_id IN ({})",
            p.list(instances.iter().map(InstanceId::as_str))
        ));
    }
    tx.query(&sql, &p.0)
        .await?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?, r.opt_text(2)?)))
        .collect()
}

/// Adds a key pair; see `KeyPairStore::insert`.
pub async fn insert(tx: &mut dyn Tx, kp: &KeyPair, quota: u32) -> Result<(), StoreError> {
    let (account, product) = (kp.account.as_str(), kp.product().as_str());
    let id = kp.id.as_str();
    if exists(
        tx,
        "SELECT 1 FROM key_pairs WHERE key_id = $1",
        &[id.into()],
    )
    .await?
    {
        return Err(StoreError::DuplicateId);
    }
    let in_scope = "FROM key_pairs WHERE account = $1 AND product = $2";
    let name_sql = format!("SELECT 1 {in_scope} AND name = $3");
    if exists(
        tx,
        &name_sql,
        &[account.into(), product.into(), kp.name.as_str().into()],
    )
    .await?
    {
        return Err(StoreError::DuplicateName(kp.name.clone()));
    }
    let fingerprint = kp.public_key.fingerprint();
    let fp_sql = format!("SELECT 1 {in_scope} AND fingerprint = $3");
    if exists(
        tx,
        &fp_sql,
        &[account.into(), product.into(), fingerprint.as_str().into()],
    )
    .await?
    {
        return Err(StoreError::DuplicateFingerprint(fingerprint.clone()));
    }
    if scope_count(tx, &kp.scope()).await? >= i64::from(quota) {
        return Err(StoreError::QuotaExceeded { limit: quota });
    }
    insert_rows(tx, &KEY_PAIR_TARGET, vec![key_pair_row(kp)?], "").await?;
    for (position, tag) in kp.tags.as_slice().iter().enumerate() {
        tx.execute(
            "INSERT INTO key_pair_tags (key_id, position, tag_key, tag_value) VALUES ($1, $2, $3, $4)",
            &[id.into(), Value::Int(position as i64), tag.key().into(), tag.value().into()],
        )
        .await?;
    }
    for a in &kp.associations {
        insert_binding(tx, &kp.id, a).await?;
    }
    tx.execute(
        "INSERT INTO scope_counts (account, product, n) VALUES ($1, $2, 1) \
         ON CONFLICT (account, product) DO UPDATE SET n = scope_counts.n + 1",
        &[account.into(), product.into()],
    )
    .await?;
    Ok(())
}

fn project_value(p: ProjectId) -> Result<Value, StoreError> {
    i64::try_from(p.get())
        .map(Value::Int)
        .map_err(|_| StoreError::backend(format!("project id {p} does not fit a 64-bit column")))
}

async fn scope_count(tx: &mut dyn Tx, scope: &Scope) -> Result<i64, StoreError> {
    let rows = tx
        .query(
            "SELECT n FROM scope_counts WHERE account = $1 AND product = $2",
            &[scope.account.as_str().into(), scope.product.as_str().into()],
        )
        .await?;
    rows.first().map_or(Ok(0), |r| r.int(0))
}

async fn insert_binding(tx: &mut dyn Tx, key: &KeyId, a: &Association) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO key_pair_instances (key_id, instance_id, username) VALUES ($1, $2, $3)",
        &[
            key.as_str().into(),
            a.instance.as_str().into(),
            a.username.as_deref().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The key pairs with these ids; see `KeyPairStore::get`.
pub async fn get(
    tx: &mut dyn Tx,
    scope: &Scope,
    ids: &[KeyId],
) -> Result<Vec<KeyPair>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = Params::default();
    let columns = COLUMNS.as_str();
    let sql = format!(
        "SELECT {columns} FROM key_pairs k WHERE {} AND k.key_id IN ({}) {ORDER}",
        p.scope(scope),
        p.list(ids_of(ids))
    );
    let rows = tx.query(&sql, &p.0).await?;
    with_details(tx, rows).await
}

/// From this offset on, a PostgreSQL page is read ids first ([`query`]). Below it the
/// plain index scan reads few rows it skips, and the extra join cost more: the first
/// page of one account came 20% slower ids first (docs/benchmarks.md). 100 is the
/// largest page, so the first page of every size reads directly.
const IDS_FIRST_FROM_OFFSET: u64 = 100;

/// One page and the total; see `KeyPairStore::query`: the count, the page, then its
/// details, in the caller's transaction (one snapshot).
pub async fn query(tx: &mut dyn Tx, scope: &Scope, q: &Query) -> Result<Page, StoreError> {
    let mut p = Params::default();
    let Some(condition) = where_clause(tx.dialect(), scope, q.filters(), &mut p)? else {
        return Ok(Page::default());
    };
    let total = if q.filters().is_empty() {
        scope_count(tx, scope).await?
    } else {
        let sql = format!("SELECT COUNT(*) FROM key_pairs k WHERE {condition}");
        tx.query(&sql, &p.0)
            .await?
            .first()
            .map_or(Ok(0), |r| r.int(0))?
    };
    let limit = p.bind(i64::from(q.limit()));
    let offset = p.bind(i64::try_from(q.offset()).unwrap_or(i64::MAX));
    let columns = COLUMNS.as_str();
    let page = format!("FROM key_pairs k WHERE {condition} {ORDER} LIMIT {limit} OFFSET {offset}");
    let sql = if tx.dialect() == Dialect::Postgres && q.offset() >= IDS_FIRST_FROM_OFFSET {
        // The page's ids first, from the describe index alone: PostgreSQL skips the
        // offset in an index-only scan instead of reading every skipped row from the
        // heap (12.5 ms at offset 500 of a 1,000,000-key table, 1.5-2.4 ms this way).
        format!(
            "SELECT {columns} FROM key_pairs k WHERE k.key_id IN (SELECT k.key_id {page}) {ORDER}"
        )
    } else {
        format!("SELECT {columns} {page}")
    };
    let rows = tx.query(&sql, &p.0).await?;
    Ok(Page {
        total: u64::try_from(total).unwrap_or(0),
        items: with_details(tx, rows).await?,
    })
}

/// The WHERE condition for the scope and filters, or `None` when no row can match.
fn where_clause(
    dialect: Dialect,
    scope: &Scope,
    filters: &[Filter],
    p: &mut Params,
) -> Result<Option<String>, StoreError> {
    let mut parts = vec![p.scope(scope)];
    let tag_exists = |cond: String| {
        format!("EXISTS (SELECT 1 FROM key_pair_tags t WHERE t.key_id = k.key_id AND {cond})")
    };
    for f in filters {
        parts.push(match f {
            Filter::KeyIds(ids) => format!("k.key_id IN ({})", p.list(ids_of(ids))),
            Filter::Names(names, NameMatch::Exact) => {
                format!("k.name IN ({})", p.list(names.iter().map(String::as_str)))
            }
            Filter::Names(names, NameMatch::Substring) => {
                let any: Vec<String> = names
                    .iter()
                    .map(|n| dialect.contains("k.name", &p.bind(n.as_str())))
                    .collect();
                format!("({})", any.join(" OR "))
            }
            Filter::Projects(projects) => {
                // A project id beyond the column's range cannot be stored, so it matches nothing.
                let storable: Vec<i64> = projects
                    .iter()
                    .filter_map(|x| i64::try_from(x.get()).ok())
                    .collect();
                if storable.is_empty() {
                    return Ok(None);
                }
                format!("k.project_id IN ({})", p.list(storable))
            }
            Filter::TagKeys(keys) => tag_exists(format!(
                "t.tag_key IN ({})",
                p.list(keys.iter().map(String::as_str))
            )),
            Filter::TagValues(values) => tag_exists(format!(
                "t.tag_value IN ({})",
                p.list(values.iter().map(String::as_str))
            )),
            Filter::Tag { key, values } => tag_exists(format!(
                "t.tag_key = {} AND t.tag_value IN ({})",
                p.bind(key.as_str()),
                p.list(values.iter().map(String::as_str))
            )),
            other => {
                return Err(StoreError::backend(format!(
                    "filter {other:?} is not supported by this store"
                )))
            }
        });
    }
    Ok(Some(parts.join(" AND ")))
}

/// Reads the tags and bindings of the rows' key pairs and assembles them.
async fn with_details(tx: &mut dyn Tx, rows: Vec<Row>) -> Result<Vec<KeyPair>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?;
    let mut p = Params::default();
    let list = p.list(ids.iter().map(String::as_str));
    // Tags (kind 0, in their order) and bindings (kind 1) of the whole page in one
    // statement: one round trip instead of two.
    let sql = format!(
        "SELECT key_id, 0 AS kind, position, tag_key, tag_value FROM key_pair_tags WHERE key_id IN ({list}) \
         UNION ALL SELECT key_id, 1, 0, instance_id, username FROM key_pair_instances WHERE key_id IN ({list}) \
         ORDER BY 1, 2, 3"
    );
    let details = tx.query(&sql, &p.0).await?;
    assemble_all(rows, &ids, details)
}

/// Every key pair of a scope in describe order, or `None` past `limit`; see
/// `KeyPairStore::scope_all`. Two statements in the caller's one transaction: the rows,
/// then the tags and bindings of the whole scope by a join (an id list of a large scope
/// would outgrow the drivers' parameter limits).
pub async fn scope_all(
    tx: &mut dyn Tx,
    scope: &Scope,
    limit: usize,
) -> Result<Option<Vec<KeyPair>>, StoreError> {
    let mut p = Params::default();
    let condition = p.scope(scope);
    let most = p.bind(i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1);
    let columns = COLUMNS.as_str();
    let sql = format!("SELECT {columns} FROM key_pairs k WHERE {condition} {ORDER} LIMIT {most}");
    let rows = tx.query(&sql, &p.0).await?;
    if rows.len() > limit {
        return Ok(None);
    }
    let ids: Vec<String> = rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?;
    let mut p = Params::default();
    let condition = p.scope(scope);
    let sql = format!(
        "SELECT t.key_id, 0 AS kind, t.position, t.tag_key, t.tag_value FROM key_pair_tags t \
         JOIN key_pairs k ON k.key_id = t.key_id WHERE {condition} \
         UNION ALL SELECT i.key_id, 1, 0, i.instance_id, i.username FROM key_pair_instances i \
         JOIN key_pairs k ON k.key_id = i.key_id WHERE {condition} ORDER BY 1, 2, 3"
    );
    let details = tx.query(&sql, &p.0).await?;
    assemble_all(rows, &ids, details).map(Some)
}

/// Key pair rows (ids `ids`) and their detail rows (key id, kind 0 for a tag in its
/// order or 1 for a binding, position, then tag key and value or instance and
/// username) into key pairs.
fn assemble_all(
    rows: Vec<Row>,
    ids: &[String],
    details: Vec<Row>,
) -> Result<Vec<KeyPair>, StoreError> {
    let mut tags: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut bound: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
    for mut r in details {
        let entry = (r.take_text(3)?, r.take_text(0)?);
        if r.int(1)? == 0 {
            let value = r.take_text(4)?;
            tags.entry(entry.1).or_default().push((entry.0, value));
        } else {
            let username = r.opt_text(4)?;
            bound.entry(entry.1).or_default().push((entry.0, username));
        }
    }
    rows.into_iter()
        .zip(ids)
        .map(|(r, id)| {
            assemble(
                r,
                tags.remove(id).unwrap_or_default(),
                bound.remove(id).unwrap_or_default(),
            )
        })
        .collect()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(format!("stored {what} is invalid: {e}"))
}

/// A stored row back into a key pair. The values are taken as stored, not validated
/// again: every one passed its type's rules on the way in, and the schema guards the
/// columns (`CHECK` on product and project). What is checked is only what a wrong
/// column type or number would break.
fn assemble(
    mut r: Row,
    tags: Vec<(String, String)>,
    bound: Vec<(String, Option<String>)>,
) -> Result<KeyPair, StoreError> {
    let product: Product = r.str(2)?.parse().map_err(|e| corrupt("product", e))?;
    // As stored: the input rules are not re-applied, so tags written under earlier
    // rules stay readable.
    let tags = Tags::from_stored(
        tags.into_iter()
            .map(|(k, v)| Tag::from_stored(k, v))
            .collect(),
    );
    let mut associations: Vec<Association> = bound
        .into_iter()
        .map(|(i, username)| Association {
            instance: InstanceId::from_stored(i),
            username,
        })
        .collect();
    associations.sort();
    debug_assert!(KeyId::parse(product, r.str(0)?).is_ok());
    Ok(KeyPair {
        id: KeyId::from_stored(r.take_text(0)?),
        account: AccountId::from_stored(r.take_text(1)?),
        name: KeyName::from_stored(r.take_text(3)?),
        project: ProjectId::parse(r.int(4)?).map_err(|e| corrupt("project", e))?,
        description: Description::from_stored(r.take_text(5)?),
        public_key: PublicKey::from_stored(
            r.take_text(6)?,
            Fingerprint::from_stored(r.take_text(7)?),
            usize::try_from(r.int(8)?).map_err(|e| corrupt("key size", e))?,
        ),
        created_at: Timestamp::from_millis(r.int(9)?),
        tags,
        associations,
    })
}

/// Renames and/or re-describes; see `KeyPairStore::update`.
pub async fn update(
    tx: &mut dyn Tx,
    scope: &Scope,
    id: &KeyId,
    change: &Change,
) -> Result<(), StoreError> {
    require_all(tx, scope, std::slice::from_ref(id)).await?;
    if let Some(name) = &change.name {
        let taken = exists(
            tx,
            "SELECT 1 FROM key_pairs WHERE account = $1 AND product = $2 AND name = $3 AND key_id <> $4",
            &[scope.account.as_str().into(), scope.product.as_str().into(), name.as_str().into(), id.as_str().into()],
        )
        .await?;
        if taken {
            return Err(StoreError::DuplicateName(name.clone()));
        }
        tx.execute(
            "UPDATE key_pairs SET name = $1 WHERE key_id = $2",
            &[name.as_str().into(), id.as_str().into()],
        )
        .await?;
    }
    if let Some(d) = &change.description {
        tx.execute(
            "UPDATE key_pairs SET description = $1 WHERE key_id = $2",
            &[d.as_str().into(), id.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// Deletes all or nothing; see `KeyPairStore::delete`.
pub async fn delete(tx: &mut dyn Tx, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
    require_all(tx, scope, ids).await?;
    let bound = bindings(tx, ids, None).await?;
    if let Some(key) = ids
        .iter()
        .find(|id| bound.iter().any(|(k, _, _)| k == id.as_str()))
    {
        let product = scope.product;
        let mut instances = bound
            .iter()
            .filter(|(k, _, _)| k == key.as_str())
            .map(|(_, i, _)| InstanceId::parse(product, i).map_err(|e| corrupt("instance id", e)))
            .collect::<Result<Vec<_>, _>>()?;
        instances.sort();
        return Err(StoreError::InUse {
            key: key.clone(),
            instances,
        });
    }
    let mut p = Params::default();
    let list = p.list(ids_of(ids));
    tx.execute(
        &format!("DELETE FROM key_pair_tags WHERE key_id IN ({list})"),
        &p.0,
    )
    .await?;
    let deleted = tx
        .execute(
            &format!("DELETE FROM key_pairs WHERE key_id IN ({list})"),
            &p.0,
        )
        .await?;
    tx.execute(
        "UPDATE scope_counts SET n = n - $3 WHERE account = $1 AND product = $2",
        &[
            scope.account.as_str().into(),
            scope.product.as_str().into(),
            Value::Int(deleted as i64),
        ],
    )
    .await?;
    Ok(())
}

/// Sets the listed instances' keys to `keys`; see `KeyPairStore::associate`.
pub async fn associate(
    tx: &mut dyn Tx,
    scope: &Scope,
    keys: &[KeyId],
    instances: &[Association],
    repeated: RepeatedBinding,
) -> Result<(), StoreError> {
    require_all(tx, scope, keys).await?;
    let wanted: Vec<InstanceId> = instances.iter().map(|a| a.instance.clone()).collect();
    let bound = bindings(tx, keys, Some(&wanted)).await?;
    let is_bound = |k: &KeyId, i: &InstanceId| {
        bound
            .iter()
            .any(|(bk, bi, _)| bk == k.as_str() && bi == i.as_str())
    };
    let per_key = binding_counts(tx, keys).await?;
    check_associate(keys, &wanted, repeated, is_bound, |k| {
        per_key
            .iter()
            .find(|(c, _)| c == k.as_str())
            .map_or(0, |(_, n)| usize::try_from(*n).unwrap_or(usize::MAX))
    })?;
    end_other_bindings(tx, scope, keys, &wanted).await?;
    for key in keys {
        for a in instances {
            if !is_bound(key, &a.instance) {
                insert_binding(tx, key, a).await?;
            }
        }
    }
    Ok(())
}

/// Today's number of instances per key pair, `(key id, count)`, for the bounds check.
async fn binding_counts(tx: &mut dyn Tx, keys: &[KeyId]) -> Result<Vec<(String, i64)>, StoreError> {
    let mut p = Params::default();
    let sql = format!(
        "SELECT key_id, count(*) FROM key_pair_instances WHERE key_id IN ({}) GROUP BY key_id",
        p.list(ids_of(keys))
    );
    tx.query(&sql, &p.0)
        .await?
        .iter()
        .map(|row| Ok((row.text(0)?, row.int(1)?)))
        .collect()
}

/// Ends the bindings of `instances` to the scope's key pairs that `keys` does not
/// name: an associate replaces an instance's keys. Another scope's key pairs bound to
/// the same instance id are not touched.
async fn end_other_bindings(
    tx: &mut dyn Tx,
    scope: &Scope,
    keys: &[KeyId],
    instances: &[InstanceId],
) -> Result<(), StoreError> {
    let mut p = Params::default();
    let sql = format!(
        "DELETE FROM key_pair_instances WHERE instance_id IN ({}) AND key_id NOT IN ({}) \
         AND key_id IN (SELECT key_id FROM key_pairs WHERE account = {} AND product = {})",
        p.list(instances.iter().map(InstanceId::as_str)),
        p.list(ids_of(keys)),
        p.bind(scope.account.as_str()),
        p.bind(scope.product.as_str()),
    );
    tx.execute(&sql, &p.0).await?;
    Ok(())
}

/// Removes every key pair of an account (or of all); see `KeyPairStore::purge`.
pub async fn purge(tx: &mut dyn Tx, account: Option<&AccountId>) -> Result<u64, StoreError> {
    let (filter, params): (&str, Vec<Value>) = match account {
        Some(a) => ("WHERE account = $1", vec![a.as_str().into()]),
        None => ("", Vec::new()),
    };
    let owned = format!("SELECT key_id FROM key_pairs {filter}");
    for child in ["key_pair_instances", "key_pair_tags"] {
        let sql = format!("DELETE FROM {child} WHERE key_id IN ({owned})");
        tx.execute(&sql, &params).await?;
    }
    let removed = tx
        .execute(&format!("DELETE FROM key_pairs {filter}"), &params)
        .await?;
    tx.execute(&format!("DELETE FROM scope_counts {filter}"), &params)
        .await?;
    Ok(removed)
}

/// Unbinds keys from instances; see `KeyPairStore::disassociate`.
pub async fn disassociate(
    tx: &mut dyn Tx,
    scope: &Scope,
    keys: &[KeyId],
    unbind: &Unbind<'_>,
) -> Result<(), StoreError> {
    require_all(tx, scope, keys).await?;
    let instances = unbind.instances;
    let bound = bindings(tx, keys, Some(instances)).await?;
    unbind.check(keys, |k, i| {
        bound
            .iter()
            .find(|(bk, bi, _)| bk == k.as_str() && bi == i.as_str())
            .map(|(_, _, user)| user.as_deref())
    })?;
    let mut p = Params::default();
    let sql = format!(
        "DELETE FROM key_pair_instances WHERE key_id IN ({}) AND instance_id IN ({})",
        p.list(ids_of(keys)),
        p.list(instances.iter().map(InstanceId::as_str))
    );
    tx.execute(&sql, &p.0).await?;
    Ok(())
}

/// Rows per multi-row statement in a bulk load: 500 key pairs bind 5,000 parameters,
/// within SQLite's and PostgreSQL's limits.
const BULK_ROWS: usize = 500;

/// Key pairs in key-id order after `after`; see `KeyPairStore::scan`. A scan is a
/// contiguous range of key ids, so its tags and bindings are read by that range: no
/// statement grows with the batch.
pub async fn scan(
    tx: &mut dyn Tx,
    after: Option<&KeyId>,
    limit: usize,
) -> Result<Vec<KeyPair>, StoreError> {
    let mut p = Params::default();
    let from = p.bind(after.map_or("", KeyId::as_str));
    let lim = p.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let columns = COLUMNS.as_str();
    let sql = format!(
        "SELECT {columns} FROM key_pairs k WHERE k.key_id > {from} ORDER BY k.key_id LIMIT {lim}"
    );
    let rows = tx.query(&sql, &p.0).await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let range = [first.text(0)?.into(), last.text(0)?.into()];
    let mut tags: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let tag_sql = "SELECT key_id, tag_key, tag_value FROM key_pair_tags \
                   WHERE key_id >= $1 AND key_id <= $2 ORDER BY key_id, position";
    for mut r in tx.query(tag_sql, &range).await? {
        tags.entry(r.take_text(0)?)
            .or_default()
            .push((r.take_text(1)?, r.take_text(2)?));
    }
    let mut bound: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
    let inst_sql = "SELECT key_id, instance_id, username FROM key_pair_instances \
                    WHERE key_id >= $1 AND key_id <= $2";
    for mut r in tx.query(inst_sql, &range).await? {
        bound
            .entry(r.take_text(0)?)
            .or_default()
            .push((r.take_text(1)?, r.opt_text(2)?));
    }
    rows.into_iter()
        .map(|r| {
            let id = r.text(0)?;
            assemble(
                r,
                tags.remove(&id).unwrap_or_default(),
                bound.remove(&id).unwrap_or_default(),
            )
        })
        .collect()
}

/// The number of key pairs; see `KeyPairStore::count_all`.
pub async fn count_all(tx: &mut dyn Tx) -> Result<u64, StoreError> {
    let rows = tx.query("SELECT count(*) FROM key_pairs", &[]).await?;
    let n = rows.first().map_or(Ok(0), |r| r.int(0))?;
    u64::try_from(n).map_err(|e| corrupt("count", e))
}

/// Why the fast path of a bulk load gave way: some row of the batch was already taken,
/// so the batch is rolled back and run again with the precise checks
/// ([`load_checked`]), which name the record or skip identical ones.
#[derive(Debug, thiserror::Error)]
#[error("a record of the batch is already stored; checking it record by record")]
pub struct NeedsCheckedLoad;

/// Whether `e` is the fast path's [`NeedsCheckedLoad`].
pub fn needs_checked_load(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend(inner) if inner.is::<NeedsCheckedLoad>())
}

/// The fast path of a bulk load, for the common case of records new to the store:
/// multi-row inserts that skip any row taken by id, name or public key. If every row
/// went in, the batch is done; otherwise it fails with [`NeedsCheckedLoad`] (the caller
/// rolls back and runs [`load_checked`]).
pub async fn load_fast(
    tx: &mut dyn Tx,
    batch: &[KeyPair],
) -> Result<keypair_core::LoadReport, StoreError> {
    let all: Vec<&KeyPair> = batch.iter().collect();
    let mut ids = std::collections::HashSet::new();
    if !all.iter().all(|kp| ids.insert(kp.id.as_str())) {
        return Err(StoreError::backend(NeedsCheckedLoad));
    }
    let inserted = insert_key_rows(tx, &all, " ON CONFLICT DO NOTHING").await?;
    if inserted != all.len() as u64 {
        return Err(StoreError::backend(NeedsCheckedLoad));
    }
    write_details(tx, &all).await?;
    Ok(keypair_core::LoadReport {
        loaded: inserted,
        present: 0,
    })
}

/// Writes a batch as it is, with every check made ahead; see `KeyPairStore::load`.
pub async fn load_checked(
    tx: &mut dyn Tx,
    batch: &[KeyPair],
) -> Result<keypair_core::LoadReport, StoreError> {
    let stored = stored_by_id(tx, batch).await?;
    let taken = taken_names_and_keys(tx, batch).await?;
    let (write, present) = keypair_core::plan_load(
        batch,
        |id| stored.get(id.as_str()).cloned(),
        |scope, name, fp| {
            let (a, p) = (scope.account.as_str(), scope.product.as_str());
            taken
                .get(&(a.to_owned(), p.to_owned(), format!("n:{}", name.as_str())))
                .or_else(|| taken.get(&(a.to_owned(), p.to_owned(), format!("f:{}", fp.as_str()))))
                .and_then(|id| KeyId::parse(scope.product, id).ok())
        },
    )?;
    insert_key_rows(tx, &write, "").await?;
    write_details(tx, &write).await?;
    Ok(keypair_core::LoadReport {
        loaded: write.len() as u64,
        present,
    })
}

/// The stored key pairs that share an id with the batch.
async fn stored_by_id(
    tx: &mut dyn Tx,
    batch: &[KeyPair],
) -> Result<HashMap<String, KeyPair>, StoreError> {
    let mut stored = HashMap::new();
    for chunk in batch.chunks(BULK_ROWS) {
        let mut p = Params::default();
        let list = p.list(chunk.iter().map(|kp| kp.id.as_str()));
        let columns = COLUMNS.as_str();
        let sql = format!("SELECT {columns} FROM key_pairs k WHERE k.key_id IN ({list})");
        let rows = tx.query(&sql, &p.0).await?;
        for kp in with_details(tx, rows).await? {
            stored.insert(kp.id.as_str().to_owned(), kp);
        }
    }
    Ok(stored)
}

type ScopedValue = (String, String, String);

/// Stored key pairs of the batch's scopes with one of its names (`n:`) or public keys
/// (`f:`), by (account, product, value), to their ids.
async fn taken_names_and_keys(
    tx: &mut dyn Tx,
    batch: &[KeyPair],
) -> Result<HashMap<ScopedValue, String>, StoreError> {
    let mut taken = HashMap::new();
    for chunk in batch.chunks(BULK_ROWS / 2) {
        for (column, tag) in [("name", "n"), ("fingerprint", "f")] {
            let mut p = Params::default();
            let tuples: Vec<String> = chunk
                .iter()
                .map(|kp| {
                    let value = if tag == "n" {
                        kp.name.as_str()
                    } else {
                        kp.public_key.fingerprint().as_str()
                    };
                    format!(
                        "({}, {}, {})",
                        p.bind(kp.account.as_str()),
                        p.bind(kp.product().as_str()),
                        p.bind(value)
                    )
                })
                .collect();
            let sql = format!(
                "SELECT account, product, {column}, key_id FROM key_pairs WHERE (account, product, {column}) IN ({})",
                tuples.join(", ")
            );
            for r in tx.query(&sql, &p.0).await? {
                let key = (r.text(0)?, r.text(1)?, format!("{tag}:{}", r.text(2)?));
                taken.insert(key, r.text(3)?);
            }
        }
    }
    Ok(taken)
}

/// Inserts the key pairs' rows in multi-row statements, each ending with `suffix`;
/// returns how many rows went in.
async fn insert_key_rows(
    tx: &mut dyn Tx,
    write: &[&KeyPair],
    suffix: &str,
) -> Result<u64, StoreError> {
    let rows = write
        .iter()
        .map(|kp| key_pair_row(kp))
        .collect::<Result<Vec<_>, StoreError>>()?;
    insert_rows(tx, &KEY_PAIR_TARGET, rows, suffix).await
}

/// The tags, bindings and scope counts of key pairs whose rows were just inserted.
async fn write_details(tx: &mut dyn Tx, write: &[&KeyPair]) -> Result<(), StoreError> {
    let mut tag_rows = Vec::new();
    let mut binding_rows = Vec::new();
    let mut counts: HashMap<(&str, &str), i64> = HashMap::new();
    for kp in write {
        let id = kp.id.as_str();
        for (position, tag) in kp.tags.as_slice().iter().enumerate() {
            tag_rows.push(vec![
                id.into(),
                Value::Int(position as i64),
                tag.key().into(),
                tag.value().into(),
            ]);
        }
        for a in &kp.associations {
            binding_rows.push(vec![
                id.into(),
                a.instance.as_str().into(),
                a.username.as_deref().into(),
            ]);
        }
        *counts
            .entry((kp.account.as_str(), kp.product().as_str()))
            .or_default() += 1;
    }
    insert_rows(
        tx,
        "key_pair_tags (key_id, position, tag_key, tag_value)",
        tag_rows,
        "",
    )
    .await?;
    insert_rows(
        tx,
        "key_pair_instances (key_id, instance_id, username)",
        binding_rows,
        "",
    )
    .await?;
    for ((account, product), n) in counts {
        tx.execute(
            "INSERT INTO scope_counts (account, product, n) VALUES ($1, $2, $3) \
             ON CONFLICT (account, product) DO UPDATE SET n = scope_counts.n + $3",
            &[account.into(), product.into(), Value::Int(n)],
        )
        .await?;
    }
    Ok(())
}

/// `INSERT INTO <target> VALUES (…), (…), …` in statements of at most [`BULK_ROWS`] rows.
async fn insert_rows(
    tx: &mut dyn Tx,
    target: &str,
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for chunk in rows.chunks(BULK_ROWS) {
        let mut p = Params::default();
        let tuples: Vec<String> = chunk
            .iter()
            .map(|row| format!("({})", p.list(row.iter().cloned())))
            .collect();
        let sql = format!("INSERT INTO {target} VALUES {}{suffix}", tuples.join(", "));
        inserted += tx.execute(&sql, &p.0).await?;
    }
    Ok(inserted)
}
