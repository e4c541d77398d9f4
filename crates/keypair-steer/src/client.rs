//! A TC3-signed request over one HTTP/1.1 connection (hyper's client), signed as the
//! official SDKs sign ([`keypair_wire::client`]): for the replay, and for the in-process
//! test server of `keypair-testserver`.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use keypair_core::Product;
use serde_json::Value;
use std::io;
use tokio::net::TcpStream;

/// The most bytes of an answer read back: the largest Describe answer (docs/api.md, 8.5
/// MB) with room to spare.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Sends `action` of `product` with `params` to `endpoint` (`host:port`), signed with
/// `credential`, and returns the answer's `Response` object.
///
/// # Errors
/// The connection failed, the answer was larger than [`MAX_ANSWER_BYTES`], or it was not
/// the API's JSON.
pub async fn call(
    endpoint: &str,
    credential: (&str, &str),
    product: Product,
    action: &str,
    params: &Value,
) -> io::Result<Value> {
    let request = keypair_wire::client::signed_post(
        credential,
        product,
        action,
        endpoint,
        params.to_string(),
        keypair_wire::client::now(),
    )
    .map(|body| Full::new(Bytes::from(body)));
    let stream = TcpStream::connect(endpoint).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(io::Error::other)?;
    tokio::spawn(connection);
    let answer = sender
        .send_request(request)
        .await
        .map_err(io::Error::other)?;
    let body = http_body_util::Limited::new(answer.into_body(), MAX_ANSWER_BYTES);
    let bytes = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let mut answer: Value = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
    Ok(answer["Response"].take())
}
