//! The OpenAPI contract, generated from the handlers and the shared types.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Revenue analytics API", description = "Revenue reports and data-quality checks over a billing star schema. Money is a decimal string with two decimals; amounts of different currencies are never added."),
    paths(
        crate::routes::reports::monthly_transactions,
        crate::routes::reports::revenue_growth,
        crate::routes::reports::top_products,
        crate::routes::reports::top_users,
        crate::routes::reports::meta,
        crate::routes::reports::quality,
        crate::routes::reports::quality_history,
        crate::routes::ingests::list,
        crate::routes::ingests::detail,
        crate::routes::ingests::rejections,
        crate::routes::health::live,
        crate::routes::health::ready,
    ),
    tags((name = "reports"), (name = "quality"), (name = "ingests"), (name = "health"))
)]
pub struct ApiDoc;

/// The contract as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
