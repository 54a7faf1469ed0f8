//! Response compression, with `Accept-Encoding` negotiated once per request.
//!
//! actix-web's `Compress` middleware negotiates the coding and hides its
//! choice, so a handler that keeps its answers compressed per coding
//! ([`crate::routes::kept`]) had to parse the header a second time, and the
//! middleware then parsed the response's `Content-Type` to decide whether to
//! compress an answer that was already compressed. This one leaves its
//! choice in the request's extensions ([`Negotiated`]) and lets a response
//! that arrives with a `Content-Encoding` pass untouched; everything else is
//! compressed as `Compress` does (same codings, same order, same 406 when no
//! coding is acceptable, images other than SVG and videos left alone).

use actix_http::encoding::Encoder;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};

/// The codings responses go out in, in `Compress`'s order (which breaks
/// ties between codings a client weighs the same).
const SUPPORTED: [Encoding; 5] = [
    Encoding::identity(),
    Encoding::brotli(),
    Encoding::gzip(),
    Encoding::deflate(),
    Encoding::zstd(),
];

/// The coding negotiated for a request's response, in its extensions once
/// the middleware has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated(pub ContentEncoding);

impl Negotiated {
    /// What the middleware chose for `req`; identity when it did not run.
    pub fn of(req: &impl HttpMessage) -> ContentEncoding {
        req.extensions()
            .get::<Negotiated>()
            .map_or(ContentEncoding::Identity, |n| n.0)
    }
}

/// The middleware (`middleware::from_fn(compression::compress)`).
pub async fn compress<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<Encoder<B>>>, actix_web::Error> {
    let coding = match req.get_header::<AcceptEncoding>() {
        None => ContentEncoding::Identity,
        Some(accepted) => match accepted.negotiate(SUPPORTED.iter()) {
            Some(Encoding::Known(coding)) => coding,
            // Unknown codings are not offered, so never chosen.
            Some(Encoding::Unknown(_)) => ContentEncoding::Identity,
            None => return Ok(not_acceptable(req)),
        },
    };
    // Identity is what a handler reads when nothing is there: most requests
    // (no Accept-Encoding) then pay no allocation for it.
    if coding != ContentEncoding::Identity {
        req.extensions_mut().insert(Negotiated(coding));
    }
    let res = next.call(req).await?;
    Ok(res.map_body(move |head, body| {
        let coding = match coding {
            ContentEncoding::Identity => coding,
            // Compressed already (a kept answer, a precompressed asset).
            _ if head.headers.contains_key(header::CONTENT_ENCODING) => ContentEncoding::Identity,
            _ if !compressible(head.headers.get(header::CONTENT_TYPE)) => ContentEncoding::Identity,
            _ => coding,
        };
        EitherBody::left(Encoder::response(coding, head, body))
    }))
}

/// `Compress`'s answer when the client accepts none of the codings.
fn not_acceptable<B>(req: ServiceRequest) -> ServiceResponse<EitherBody<Encoder<B>>> {
    let mut res = HttpResponse::with_body(StatusCode::NOT_ACCEPTABLE, "br, gzip, deflate, zstd");
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    req.into_response(res).map_into_boxed_body().map_into_right_body()
}

/// Whether a response of this type is worth compressing (`Compress`'s
/// rule): everything but images other than SVG, and videos.
fn compressible(content_type: Option<&HeaderValue>) -> bool {
    let Some(mime) = content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
    else {
        return true;
    };
    match mime.type_() {
        mime::IMAGE => mime.subtype() == mime::SVG,
        mime::VIDEO => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::ContentEncoding;
    use actix_web::{middleware, test, web, App, HttpRequest, HttpResponse};

    use super::{compress, Negotiated};

    /// What a handler behind the middleware sees, and what goes out.
    #[actix_web::test]
    async fn the_handler_sees_the_coding_the_response_goes_out_in() {
        let app = test::init_service(
            App::new()
                .wrap(middleware::from_fn(compress))
                .route(
                    "/seen",
                    web::get().to(|req: HttpRequest| async move { format!("{:?}", Negotiated::of(&req)).repeat(50) }),
                )
                .route(
                    "/coded",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .insert_header(("content-encoding", "br"))
                            .body("already")
                    }),
                ),
        )
        .await;
        for (accept, seen, sent) in [
            (Some("gzip, deflate, br, zstd"), "Brotli", Some("br")),
            (Some("zstd;q=1, gzip;q=0.5"), "Zstd", Some("zstd")),
            (Some("gzip"), "Gzip", Some("gzip")),
            (Some("deflate"), "Deflate", Some("deflate")),
            (Some("identity"), "Identity", None),
            (None, "Identity", None),
        ] {
            let mut req = test::TestRequest::get().uri("/seen");
            if let Some(accept) = accept {
                req = req.insert_header(("accept-encoding", accept));
            }
            let res = test::call_service(&app, req.to_request()).await;
            let coding = res
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(coding.as_deref(), sent, "{accept:?}");
            if sent.is_none() {
                let body = test::read_body(res).await;
                assert_eq!(body, seen.repeat(50), "{accept:?}");
            }
        }
        // A response compressed by its handler is sent as it is.
        let req = test::TestRequest::get()
            .uri("/coded")
            .insert_header(("accept-encoding", "gzip"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.headers().get("content-encoding").unwrap(), "br");
        assert_eq!(test::read_body(res).await, "already");
        // Without the middleware, a handler sees identity.
        let req = test::TestRequest::get().to_http_request();
        assert_eq!(Negotiated::of(&req), ContentEncoding::Identity);
    }
}
