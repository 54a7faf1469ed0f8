//! `/docs`: Swagger UI over `/openapi.json`, its files built into the binary
//! (the `vendored` Swagger UI of utoipa-swagger-ui): the page works offline
//! and loads nothing from another host.

use std::sync::{Arc, OnceLock};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(
                Config::from("/openapi.json")
                    .try_it_out_enabled(true)
                    // The bearer token typed into "Authorize" survives a reload.
                    .persist_authorization(true)
                    // No badge fetched from validator.swagger.io: nothing leaves this host.
                    .validator_url("none"),
            )
        })
        .clone()
}

/// `/docs` → `/docs/` (the page's files are relative to it).
pub async fn root() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `/docs/{file}`: the page and its assets.
pub async fn file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    match utoipa_swagger_ui::serve(&name, config()) {
        Ok(Some(file)) => {
            // The assets never change within a build; the page and its
            // initializer (which names /openapi.json) are checked each time.
            let cache = match name.as_str() {
                "" | "index.html" | "swagger-initializer.js" => "no-cache",
                _ => "public, max-age=86400",
            };
            Ok(HttpResponse::Ok()
                .content_type(file.content_type)
                .insert_header((header::CACHE_CONTROL, cache))
                .body(file.bytes.into_owned()))
        }
        Ok(None) => Err(ApiError::NotFound(format!(
            "no such file in /docs: {}",
            truncate(&name)
        ))),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Swagger UI page");
            Err(ApiError::NotFound(
                "the API documentation page is unavailable".to_owned(),
            ))
        }
    }
}

fn truncate(s: &str) -> String {
    crate::telemetry::redact_tokens(s).chars().take(80).collect()
}
