//! Views of the report snapshot, answered from the bytes they went out as
//! ([`reports::Answers`]): a report is built and serialised once per run,
//! parameters and form, and compressed once per coding, instead of on every
//! request. Access control has run before any handler (it is middleware),
//! so kept bytes never reach a request it refused.

use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use reports::{AnswerKey, ReportContext, ToCsv};
use serde::Serialize;

use super::{wants_csv, Depends, Tag};
use crate::assets::{Effort, Encoding};
use crate::drill_downs::DrillDowns;
use crate::error::ApiError;

/// The form of a view's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Json,
    /// CSV, downloaded as `<name>.csv`.
    Csv(&'static str),
}

impl Form {
    /// CSV when asked for with `?format=csv` or `Accept: text/csv`, JSON otherwise.
    pub fn of(req: &HttpRequest, format: Option<&str>, name: &'static str) -> Self {
        match wants_csv(req, format) {
            true => Form::Csv(name),
            false => Form::Json,
        }
    }

    /// `report` written in this form.
    pub fn write<T: Serialize + ToCsv>(self, report: &T) -> Result<Bytes, ApiError> {
        match self {
            Form::Json => json(report),
            Form::Csv(_) => Ok(Bytes::from(report.to_csv())),
        }
    }

    /// A 200 with `body`, which is in this form.
    fn response(self, body: Bytes) -> HttpResponse {
        match self {
            Form::Json => HttpResponse::Ok().content_type("application/json").body(body),
            Form::Csv(name) => HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ))
                .body(body),
        }
    }
}

/// `report` as JSON (the bytes `HttpResponse::json` sends).
pub fn json<T: Serialize>(report: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(report).map(Bytes::from).map_err(|e| ApiError::Io {
        during: "writing the answer",
        source: e.into(),
    })
}

/// Answers a view of `ctx`: 304 when the client's copy is current, else the
/// bytes kept for this view, else `compute`'s bytes (`form` written), kept.
/// Without data (no run) nothing is kept: `compute` answers.
pub async fn answer(
    req: &HttpRequest,
    ctx: &ReportContext,
    depends: Depends,
    form: Form,
    compute: impl std::future::Future<Output = Result<Bytes, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    let Some(tag) = Tag::of(req, ctx, depends) else {
        return compute.await.map(|body| form.response(body));
    };
    if let Some(res) = tag.not_modified(req) {
        return Ok(res);
    }
    let key = AnswerKey {
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        csv: form != Form::Json,
        clock: depends.clock(),
        coding: None,
    };
    let coding = coding(req);
    if let Some(coding) = coding {
        if let Some(body) = ctx.answers.get(&key.coded(coding.token())) {
            return Ok(tag.on(coded(form.response(body), coding)));
        }
    }
    let body = match ctx.answers.get(&key) {
        Some(body) => body,
        None => {
            let body = compute.await?;
            ctx.answers.keep(key.clone(), body.clone());
            body
        }
    };
    if let Some(coding) = coding {
        let plain = body.clone();
        // Off the request threads: a large CSV takes a while.
        let compressed = web::block(move || coding.compress(&plain, Effort::Quick)).await;
        if let Ok(Ok(compressed)) = compressed {
            let compressed = Bytes::from(compressed);
            ctx.answers.keep(key.coded(coding.token()), compressed.clone());
            return Ok(tag.on(coded(form.response(compressed), coding)));
        }
        // Not compressed: the plain bytes go out, compressed on the way as any response.
    }
    Ok(tag.on(form.response(body)))
}

/// Answers a view that reads the database beyond the snapshot (a month's
/// customers, a customer): 304 when the client's copy is current, else
/// `compute`, on every request, in one of the drill-downs' turns (503 `busy`
/// when none comes free: see [`crate::drill_downs`]). Its bytes are never kept: the database may
/// already hold a newer run than `ctx`, so they cannot be keyed by `ctx`'s
/// run. The tag still names `ctx`'s run: a copy it validates was read after
/// that run committed, and a newer run changes the tag.
pub async fn uncached(
    req: &HttpRequest,
    ctx: &ReportContext,
    depends: Depends,
    drill_downs: &DrillDowns,
    compute: impl std::future::Future<Output = Result<HttpResponse, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    let Some(tag) = Tag::of(req, ctx, depends) else {
        let _turn = drill_downs.start().await?;
        return compute.await;
    };
    if let Some(res) = tag.not_modified(req) {
        return Ok(res);
    }
    // After the 304, which reads nothing.
    let _turn = drill_downs.start().await?;
    compute.await.map(|res| tag.on(res))
}

/// The coding the response compression would choose for `req`, when it is
/// one kept compressed (Brotli, zstd, gzip); `None`: the plain bytes go out
/// (and the middleware compresses them when the client wants another).
fn coding(req: &HttpRequest) -> Option<Encoding> {
    use header::Encoding as Coding;
    // The codings of `actix_web::middleware::Compress`, in its order.
    const SUPPORTED: [Coding; 5] = [
        Coding::identity(),
        Coding::brotli(),
        Coding::gzip(),
        Coding::deflate(),
        Coding::zstd(),
    ];
    let accepted = req.get_header::<AcceptEncoding>()?;
    match accepted.negotiate(SUPPORTED.iter())? {
        Coding::Known(ContentEncoding::Brotli) => Some(Encoding::Brotli),
        Coding::Known(ContentEncoding::Zstd) => Some(Encoding::Zstd),
        Coding::Known(ContentEncoding::Gzip) => Some(Encoding::Gzip),
        _ => None,
    }
}

/// `res`, whose body is in `coding`, marked so (the compression middleware
/// leaves a response with a `Content-Encoding` alone).
fn coded(mut res: HttpResponse, coding: Encoding) -> HttpResponse {
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}
