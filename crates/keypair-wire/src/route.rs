//! Which product and which action a request is for: the product from `Version`,
//! cross-checked with the credential scope's service and the `Host` endpoint name, then
//! the action among that product's (`InvalidAction` otherwise).

use crate::auth::Caller;
use crate::error::{self, ApiError};
use crate::host::Host;
use http::HeaderMap;
use keypair_core::{Action, Product};

/// The product the request's Version names, checked against what the credential scope
/// and the `Host` prefix say where they name a product.
pub(crate) fn product_for(
    version: &str,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<Product, ApiError> {
    let product = Product::from_version(version).ok_or_else(|| {
        ApiError::new(
            crate::codes::NO_SUCH_VERSION,
            "接口版本不存在",
            format!(
                "Version {} does not exist; use 2017-03-12 (CVM) or 2020-03-24 (Lighthouse)",
                error::clip(version)
            ),
        )
    })?;
    if let Some(named) = caller.service.as_deref().and_then(Product::from_service) {
        if named != product {
            return Err(ApiError::new(
                crate::codes::INVALID_AUTHORIZATION,
                "凭证服务与版本不符",
                format!("the credential scope names service {named} but Version {version} belongs to {product}"),
            ));
        }
    }
    let host = Host::of(headers).unwrap_or(Host::new(""));
    if let Some(named) = host.product() {
        if named != product {
            return Err(ApiError::new(
                crate::codes::NO_SUCH_VERSION,
                "接口版本不存在",
                format!(
                    "the endpoint {} serves {named}, which has no Version {version}",
                    error::clip(host.bare())
                ),
            ));
        }
    }
    Ok(product)
}

/// The action `name` of `product` (`InvalidAction` when the product has none such).
pub(crate) fn action_for(name: &str, product: Product, version: &str) -> Result<Action, ApiError> {
    Action::from_name(name, product).ok_or_else(|| {
        ApiError::new(
            crate::codes::INVALID_ACTION,
            "接口不存在",
            format!(
                "{} is not an action of {product} (Version {version})",
                error::clip(name)
            ),
        )
    })
}
