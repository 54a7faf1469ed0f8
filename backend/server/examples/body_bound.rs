//! The transfer bound of issue 24's goal 1 (BENCHMARKS.md): a server that
//! does no work per request, to measure what a body of N bytes costs on
//! this machine by itself. `/health/live` answers `{"status":"ok"}` as the
//! real server does; `/bytes/{n}` answers n bytes (at most 1 MiB) sliced
//! from one buffer made at start, so a request costs only its transfer.
//! `bench/api_compare.sh` with `API_BOUND=1` measures it beside the real
//! server's views, at each view's own body size.
//!
//!     cargo run --release -p server --example body_bound -- 127.0.0.1:0

use actix_web::{web, App, HttpResponse, HttpServer};

const MAX: usize = 1 << 20;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    // JSON-like text, as the reports send; its content does not matter.
    let body = web::Bytes::from(b"{\"a\":12345},".repeat(MAX / 12 + 1));
    let server = HttpServer::new(move || {
        let body = body.clone();
        App::new()
            .route(
                "/health/live",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(r#"{"status":"ok"}"#)
                }),
            )
            .route(
                "/bytes/{n}",
                web::get().to(move |n: web::Path<usize>| {
                    let body = body.slice(..n.into_inner().min(MAX));
                    async move { HttpResponse::Ok().content_type("application/json").body(body) }
                }),
            )
    })
    .bind(bind)?;
    for address in server.addrs() {
        println!("listening on http://{address}");
    }
    server.run().await
}
