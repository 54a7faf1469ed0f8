//! The OpenAPI contract, generated from the handlers and the shared types.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::endpoints::{self as policy, Access};

#[derive(OpenApi)]
#[openapi(
    info(title = "Revenue analytics API", description = "Revenue reports and data-quality checks over a billing star schema. Money is a decimal string with as many decimals as its currency's ISO 4217 minor unit (2 for usd, 0 for jpy, 3 for kwd); amounts of different currencies are never added.\n\nAuthentication: `Authorization: Bearer <token>` (tokens are created with `backend token create`), or the dashboard's session cookie (`POST /session`). A reader token reads everything; an admin token also uploads. With no token at all the API is open (on a loopback address only, unless the server allows it)."),
    paths(
        crate::routes::reports::monthly_transactions,
        crate::routes::reports::revenue_growth,
        crate::routes::reports::top_products,
        crate::routes::reports::top_users,
        crate::routes::reports::month,
        crate::routes::saas::mrr,
        crate::routes::saas::cohorts,
        crate::routes::saas::movements,
        crate::routes::reports::meta,
        crate::routes::reports::quality,
        crate::routes::reports::quality_history,
        crate::routes::customers::search,
        crate::routes::customers::customer,
        crate::routes::ingests::list,
        crate::routes::upload::upload,
        crate::routes::ingests::detail,
        crate::routes::ingests::rejections,
        crate::routes::session::current,
        crate::routes::session::sign_in,
        crate::routes::session::sign_out,
        crate::routes::health::live,
        crate::routes::health::ready,
        crate::monitoring::metrics,
    ),
    modifiers(&Security, &Problems),
    tags((name = "reports"), (name = "quality"), (name = "customers"), (name = "ingests"), (name = "session"), (name = "health"), (name = "operations"))
)]
pub struct ApiDoc;

/// The contract as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Declares the two ways to authenticate, and puts them (with the 401, 403
/// and 429 answers) on every operation the access policy protects — from the
/// policy itself, so that the contract cannot forget an endpoint.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("rak_<64 hex digits>".to_owned());
        bearer.description = Some("An API token from `backend token create`.".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::COOKIE,
                "The dashboard's session cookie, set by `POST /session`.",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (actix_web::http::Method::GET, &mut item.get),
                (actix_web::http::Method::POST, &mut item.post),
                (actix_web::http::Method::DELETE, &mut item.delete),
                (actix_web::http::Method::PUT, &mut item.put),
                (actix_web::http::Method::PATCH, &mut item.patch),
            ];
            for (method, operation) in operations {
                if let (Some(op), Access::Role(_)) = (operation.as_mut(), policy::access(&method, path)) {
                    protect(op);
                }
            }
        }
    }
}

fn protect(op: &mut Operation) {
    op.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);
    for (status, description) in [
        (
            "401",
            "Not signed in, or the token or session is invalid, revoked or expired (`WWW-Authenticate: Bearer`)",
        ),
        (
            "403",
            "The token's role does not allow this (or a cross-site request with the session cookie)",
        ),
        ("429", "Too many failed attempts from this address (`Retry-After`)"),
    ] {
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
                .into()
        });
    }
}

/// Error answers are `application/problem+json` (RFC 9457): the handlers
/// declare their error bodies; this gives every 4xx and 5xx that media type.
struct Problems;

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
                &mut item.patch,
                &mut item.head,
            ];
            for op in operations.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    let utoipa::openapi::RefOr::T(response) = response else {
                        continue;
                    };
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    if let Some(content) = response.content.shift_remove("application/json") {
                        response.content.insert(crate::error::PROBLEM_JSON.to_owned(), content);
                    }
                }
            }
        }
    }
}
