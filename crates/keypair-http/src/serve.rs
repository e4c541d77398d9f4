//! The accept loop: HTTP/1.1 with keep-alive, protected against slow and greedy clients.
//!
//! - A header-read timeout closes a connection that does not deliver a request's headers
//!   in time (slowloris), and an idle keep-alive connection whose next request does not
//!   start in time.
//! - A cap on open connections: past it, new connections wait in the kernel's backlog
//!   rather than consume memory and tasks. [`bind`] sizes that backlog for the cap.
//! - A cap on open connections per client address: past it, a new connection from that
//!   address is closed at once (metric reason `per_address`), so one address cannot
//!   take every connection.
//! - A cap on what hyper buffers for a request's headers ([`ServerLimits::max_header_bytes`]):
//!   larger headers get `431 Request Header Fields Too Large` from hyper and a close.
//! - A cap on requests in flight (in [`crate::AppState`]): past it, requests are answered
//!   at once with `RequestLimitExceeded` instead of queueing without bound.
//! - Graceful shutdown: stop accepting, let requests in flight finish (up to a deadline).
//! - A response marked [`DropConnection`] (a hook's injected fault) is not written: the
//!   connection is closed without an answer, as a network failure would leave it.

use crate::metrics::Metrics;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;

/// Connection-level limits.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Most connections open at once (default 4096).
    pub max_connections: usize,
    /// Most connections open at once from one client address (default 512).
    pub max_connections_per_address: usize,
    /// Most bytes hyper buffers for one request's line and headers (default 32 KiB;
    /// hyper's floor is 8 KiB).
    pub max_header_bytes: usize,
    /// Time allowed for a request's headers to arrive, and for an idle keep-alive
    /// connection to start its next request.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 4096,
            max_connections_per_address: 512,
            max_header_bytes: 32 * 1024,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Clone, Copy, Debug)]
pub struct DropConnection;

/// Why a connection was closed without an answer (the service's error, which makes hyper
/// close the connection without writing a response).
#[derive(Debug, thiserror::Error)]
#[error("the connection was dropped by an injected fault")]
struct Dropped;

/// The router as one connection's hyper service: a response marked [`DropConnection`]
/// becomes an error, so hyper closes the connection and writes nothing.
fn connection_service(
    app: Router,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = Dropped,
    Future = impl Future<Output = Result<axum::response::Response, Dropped>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move {
            let response = match tower::ServiceExt::oneshot(app, req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if response.extensions().get::<DropConnection>().is_some() {
                return Err(Dropped);
            }
            Ok(response)
        }
    })
}

/// Binds `addr` with a listen backlog of `backlog` connections (the kernel caps it at
/// `net.core.somaxconn`), so a burst up to the connection cap waits in the kernel
/// instead of being dropped into SYN retries.
pub fn bind(addr: SocketAddr, backlog: usize) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(u32::try_from(backlog).unwrap_or(u32::MAX))
}

/// What to do when [`bind`] failed, for a message that ends in it (`""` when there is
/// nothing to add).
pub fn bind_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            "; another program (perhaps another keypaird) listens there: stop it, or choose another port with --listen (port 0 lets the system choose)"
        }
        std::io::ErrorKind::PermissionDenied => {
            "; ports below 1024 need privileges: choose a port above 1023, such as 8080"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "; that address is not one of this machine's: use 127.0.0.1, 0.0.0.0 or an address of one of its interfaces"
        }
        _ => "",
    }
}

/// Whether a listen address `listen` ends in a port: `host:port` or `[v6]:port`.
pub fn has_port(listen: &str) -> bool {
    let port = match listen.strip_prefix('[') {
        Some(rest) => rest.split_once("]:").map(|(_, port)| port),
        None => listen
            .rsplit_once(':')
            .filter(|(host, _)| !host.contains(':'))
            .map(|(_, port)| port),
    };
    port.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The first address a listen address resolves to; an `InvalidInput` error saying what
/// to give when it has no port or resolves to nothing.
pub async fn resolve(listen: &str) -> std::io::Result<std::net::SocketAddr> {
    let invalid = |reason: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, reason);
    if !has_port(listen) {
        return Err(invalid("give a host and a port, such as 127.0.0.1:8080, localhost:8080 or [::1]:8080 (port 0 lets the system choose)"));
    }
    let found = tokio::net::lookup_host(listen).await?.next();
    found.ok_or_else(|| invalid("the address resolves to nothing"))
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    /// Counts a connection from `ip` unless it already has `max`; the guard uncounts it.
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<AddressGuard> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressGuard(self.clone(), ip))
    }
}

struct AddressGuard(Arc<PerAddress>, IpAddr);

impl Drop for AddressGuard {
    fn drop(&mut self) {
        let mut open = self.0 .0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => match per_address.admit(peer.ip(), limits.max_connections_per_address) {
                    Some(guard) => (stream, guard),
                    None => {
                        // Closing at once costs this address nothing but its handshake.
                        metrics.refusal("per_address");
                        continue;
                    }
                },
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, address_guard) = stream;
        let _ = stream.set_nodelay(true);
        let service = connection_service(app.clone());
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_header_bytes.max(8192))
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client that misbehaves only ends its own connection.
            let _ = conn.await;
            drop(permit);
            drop(address_guard);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing connections with requests in flight");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listen_address_needs_a_port() {
        for ok in ["127.0.0.1:0", "localhost:8080", "[::1]:8080"] {
            assert!(has_port(ok), "{ok}");
        }
        for no in ["localhost", "::1", "[::1]", "127.0.0.1:", "host:port"] {
            assert!(!has_port(no), "{no}");
        }
    }
}
