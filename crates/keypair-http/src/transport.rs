//! Transport limits on a request body, applied before anything else looks at the
//! request: nothing an unauthenticated client sends is buffered past these bounds.
//!
//! - **Size:** a body larger than [`BodyLimits::max_bytes`] is refused, from its declared
//!   `Content-Length` when it has one, else as soon as it passes the limit. So that the
//!   client, still sending, can read the answer instead of a connection reset, up to
//!   [`DRAIN_LIMIT`] bytes of such a body are read and discarded (never buffered) within
//!   the body's time limit before the answer; past that the connection is closed.
//! - **Time:** the whole body must arrive within `base_timeout + size / min_rate` (the
//!   declared size, or the limit for a chunked body). A stalled body is refused with its
//!   own code (`InvalidRequest`) and metric reason (`body_timeout`).
//! - **Memory:** each request may buffer [`BodyLimits::free_bytes`] on its own. Bytes past
//!   that are charged, as they arrive, to one shared budget of
//!   [`BodyLimits::budget_bytes`]; when the budget is spent the request is refused at
//!   once (`RequestLimitExceeded`, reason `body_budget`) instead of waiting. So bodies in
//!   flight hold at most `connections × free_bytes + budget_bytes` bytes, and small
//!   requests (every normal API call) are never held up by large ones.
//!
//! The request-slot cap ([`crate::HttpConfig::max_in_flight`]) is taken only after the
//! body is complete, so stalled bodies cannot occupy the slots of working requests.

use axum::body::{Body, Bytes};
use futures::StreamExt;
use keypair_wire::ApiError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Default largest request body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Most bytes of a too-large body read and discarded so the client sees the answer.
pub const DRAIN_LIMIT: u64 = 16 << 20;

/// Body limits; see the module docs.
#[derive(Clone, Debug)]
pub struct BodyLimits {
    /// Largest body in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Time every body gets, whatever its size (default 5 s).
    pub base_timeout: Duration,
    /// Slowest average rate accepted, in bytes per second (default 64 KiB/s): a 1 MiB
    /// body gets 5 s + 16 s.
    pub min_rate: u64,
    /// Bytes each request may buffer without drawing on the shared budget (default 8 KiB).
    pub free_bytes: usize,
    /// The shared budget for bytes past `free_bytes`, across all requests (default 32 MiB).
    pub budget_bytes: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_bytes: DEFAULT_BODY_LIMIT,
            base_timeout: Duration::from_secs(5),
            min_rate: 64 * 1024,
            free_bytes: 8 * 1024,
            budget_bytes: 32 << 20,
        }
    }
}

impl BodyLimits {
    /// How long a body of `size` bytes may take to arrive.
    pub fn timeout_for(&self, size: usize) -> Duration {
        let rate = self.min_rate.max(1);
        self.base_timeout + Duration::from_secs_f64(size as f64 / rate as f64)
    }
}

/// Why a body was refused. Each has its own metric reason and Tencent code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Larger than the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Not complete within its time.
    TimedOut {
        /// The time it had.
        after: Duration,
    },
    /// The shared budget for large bodies is spent.
    Budget {
        /// The budget in bytes.
        budget: usize,
    },
    /// The connection failed mid-body.
    Broken,
}

impl BodyRefusal {
    /// The metric label of the refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            BodyRefusal::TooLarge { .. } => "body_too_large",
            BodyRefusal::TimedOut { .. } => "body_timeout",
            BodyRefusal::Budget { .. } => "body_budget",
            BodyRefusal::Broken => "body_incomplete",
        }
    }

    /// The answer, in the Tencent envelope.
    pub fn api_error(&self) -> ApiError {
        match self {
            BodyRefusal::TooLarge { limit } => ApiError::new(
                keypair_wire::codes::REQUEST_SIZE_LIMIT_EXCEEDED,
                "请求包过大",
                format!("the request body is larger than {limit} bytes"),
            ),
            BodyRefusal::TimedOut { after } => ApiError::new(
                keypair_wire::codes::INVALID_REQUEST,
                "请求体接收超时",
                format!(
                    "the request body did not arrive within {:.1} s; send it at a steady rate",
                    after.as_secs_f64()
                ),
            ),
            BodyRefusal::Budget { budget } => ApiError::new(
                keypair_wire::codes::REQUEST_LIMIT_EXCEEDED,
                "服务繁忙",
                format!(
                    "the server is buffering its limit of {} MiB of large request bodies; retry shortly",
                    budget >> 20
                ),
            ),
            BodyRefusal::Broken => ApiError::new(
                keypair_wire::codes::INVALID_REQUEST,
                "请求体不完整",
                "the connection failed before the request body was complete",
            ),
        }
    }
}

/// A complete body and its share of the budget, held until the request is answered.
#[derive(Debug)]
pub struct BufferedBody {
    /// The bytes.
    pub bytes: Vec<u8>,
    _charged: Vec<OwnedSemaphorePermit>,
}

/// The shared budget for large bodies.
#[derive(Debug)]
pub struct BodyBudget(Arc<Semaphore>);

impl BodyBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        BodyBudget(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))))
    }

    /// Bytes not charged to any request now.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }

    fn charge(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(bytes).ok()?;
        self.0.clone().try_acquire_many_owned(n).ok()
    }
}

/// Reads a whole body within the limits. `declared` is the `Content-Length`, if any.
pub async fn read(
    body: Body,
    declared: Option<u64>,
    limits: &BodyLimits,
    budget: &BodyBudget,
) -> Result<BufferedBody, BodyRefusal> {
    let too_large = BodyRefusal::TooLarge {
        limit: limits.max_bytes,
    };
    let mut stream = body.into_data_stream();
    if let Some(n) = declared.filter(|n| *n > limits.max_bytes as u64) {
        if n <= DRAIN_LIMIT {
            let size = usize::try_from(n).unwrap_or(usize::MAX);
            drain(&mut stream, Instant::now() + limits.timeout_for(size)).await;
        }
        return Err(too_large);
    }
    let expected = declared.map_or(limits.max_bytes, |n| n as usize);
    let after = limits.timeout_for(expected);
    let deadline = Instant::now() + after;
    // Chunks are kept as they came and joined once at the end: no regrowth copies, and
    // what is charged is what is held.
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    let mut charged: Vec<OwnedSemaphorePermit> = Vec::new();
    let mut charged_bytes = 0usize;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| BodyRefusal::TimedOut { after })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|_| BodyRefusal::Broken)?;
        len += chunk.len();
        if len > limits.max_bytes {
            drop(chunks);
            drain(&mut stream, deadline).await;
            return Err(too_large);
        }
        let owed = len.saturating_sub(limits.free_bytes);
        if owed > charged_bytes {
            let permit = budget
                .charge(owed - charged_bytes)
                .ok_or(BodyRefusal::Budget {
                    budget: limits.budget_bytes,
                })?;
            charged.push(permit);
            charged_bytes = owed;
        }
        chunks.push(chunk);
    }
    let mut bytes = Vec::with_capacity(len);
    for chunk in chunks {
        bytes.extend_from_slice(&chunk);
    }
    Ok(BufferedBody {
        bytes,
        _charged: charged,
    })
}

/// Reads and discards the rest of a body, up to [`DRAIN_LIMIT`] bytes, until `deadline`.
async fn drain(stream: &mut axum::body::BodyDataStream, deadline: Instant) {
    let mut drained = 0u64;
    while drained <= DRAIN_LIMIT {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => drained += chunk.len() as u64,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn limits() -> BodyLimits {
        BodyLimits {
            max_bytes: 1000,
            base_timeout: Duration::from_secs(5),
            min_rate: 100,
            free_bytes: 100,
            budget_bytes: 250,
        }
    }

    fn chunked(parts: &[usize]) -> Body {
        let chunks: Vec<Result<Bytes, std::io::Error>> = parts
            .iter()
            .map(|n| Ok(Bytes::from(vec![b'x'; *n])))
            .collect();
        Body::from_stream(stream::iter(chunks))
    }

    #[tokio::test]
    async fn small_bodies_never_touch_the_budget() {
        let budget = BodyBudget::new(0);
        let body = read(chunked(&[60, 40]), Some(100), &limits(), &budget).await;
        assert_eq!(body.unwrap().bytes.len(), 100);
    }

    #[tokio::test]
    async fn large_bodies_are_charged_while_held_and_refused_past_the_budget() {
        let (l, budget) = (limits(), BodyBudget::new(250));
        let held = read(chunked(&[300]), None, &l, &budget).await.unwrap();
        assert_eq!(
            budget.available(),
            50,
            "200 bytes past the free 100 are charged"
        );
        let refused = read(chunked(&[100, 100]), None, &l, &budget).await;
        assert_eq!(refused.unwrap_err(), BodyRefusal::Budget { budget: 250 });
        assert_eq!(
            budget.available(),
            50,
            "a refused body gives back what it took"
        );
        drop(held);
        assert_eq!(budget.available(), 250);
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused_declared_or_not() {
        let (l, budget) = (limits(), BodyBudget::new(10_000));
        let declared = read(chunked(&[10]), Some(1001), &l, &budget).await;
        assert_eq!(declared.unwrap_err(), BodyRefusal::TooLarge { limit: 1000 });
        let streamed = read(chunked(&[600, 600]), None, &l, &budget).await;
        assert_eq!(streamed.unwrap_err(), BodyRefusal::TooLarge { limit: 1000 });
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out_by_its_size() {
        let l = limits();
        assert_eq!(l.timeout_for(500), Duration::from_secs(10));
        let stalled = Body::from_stream(stream::pending::<Result<Bytes, std::io::Error>>());
        let refused = read(stalled, Some(500), &l, &BodyBudget::new(0)).await;
        let after = Duration::from_secs(10);
        assert_eq!(refused.unwrap_err(), BodyRefusal::TimedOut { after });
        assert_eq!(
            refused_code(&BodyRefusal::TimedOut { after }),
            "InvalidRequest"
        );
    }

    fn refused_code(r: &BodyRefusal) -> &'static str {
        r.api_error().code
    }
}
