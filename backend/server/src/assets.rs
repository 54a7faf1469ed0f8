//! The dashboard's scripts, styles and WebAssembly, compressed once per
//! encoding (Brotli, zstd, gzip at their best ratios) and kept in memory:
//! the ~800 KB `.wasm` is not compressed again for every browser that loads
//! it, and goes out smaller than on-the-fly compression would make it.
//!
//! Trunk names these files by their content's hash, so a compressed copy
//! never goes stale while the server runs and browsers may keep them for a
//! year. Other files (the index page) go through the on-the-fly compression
//! of every response.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use tokio::sync::OnceCell;

/// Files compressed ahead (by extension) and their media types.
const KINDS: &[(&str, &str)] = &[
    ("wasm", "application/wasm"),
    ("js", "text/javascript; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
];

/// The encodings, in the order of preference when a browser accepts several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Brotli,
    Zstd,
    Gzip,
}

/// How hard to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// The best ratio: files compressed once per server.
    Best,
    /// A good ratio in a few milliseconds per 100 kB: report answers,
    /// compressed once per run on the path of a request.
    Quick,
}

impl Encoding {
    const ALL: [Encoding; 3] = [Encoding::Brotli, Encoding::Zstd, Encoding::Gzip];

    /// Its name in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
            Encoding::Gzip => "gzip",
        }
    }

    /// `data` in this encoding.
    pub fn compress(self, data: &[u8], effort: Effort) -> std::io::Result<Vec<u8>> {
        let best = effort == Effort::Best;
        match self {
            Encoding::Brotli => {
                let mut out = Vec::with_capacity(data.len() / 3);
                let params = brotli::enc::BrotliEncoderParams {
                    quality: if best { 11 } else { 5 },
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
                Ok(out)
            }
            Encoding::Zstd => zstd::bulk::compress(data, if best { 19 } else { 3 }),
            Encoding::Gzip => {
                let level = match best {
                    true => flate2::Compression::best(),
                    false => flate2::Compression::default(),
                };
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(data)?;
                e.finish()
            }
        }
    }

    /// The best encoding `accept` (an `Accept-Encoding` value) allows: the
    /// first of ours it names with a non-zero weight.
    pub fn choose(accept: &str) -> Option<Self> {
        let allowed = |token: &str| {
            accept.split(',').any(|part| {
                let mut fields = part.split(';');
                let name = fields.next().unwrap_or("").trim();
                let q = fields
                    .find_map(|f| f.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                name.eq_ignore_ascii_case(token) && q > 0.0
            })
        };
        Self::ALL.into_iter().find(|e| allowed(e.token()))
    }
}

/// One file's copy in one encoding, made once.
type Copy = Arc<OnceCell<Bytes>>;

/// The compressed copies, made on first request (or by [`Precompressed::warm`]).
pub struct Precompressed {
    dir: PathBuf,
    copies: Mutex<HashMap<(String, Encoding), Copy>>,
}

impl Precompressed {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            copies: Mutex::new(HashMap::new()),
        }
    }

    /// The media type of `name` if it is a file compressed ahead.
    fn kind(name: &str) -> Option<&'static str> {
        let ext = Path::new(name).extension()?.to_str()?;
        KINDS.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t)
    }

    /// A file name of the dashboard's own folder (no path, nothing hidden).
    fn plain(name: &str) -> bool {
        !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
    }

    /// The copy of `name` in `encoding`, compressing it once (off the
    /// request threads); `None` when there is no such file.
    async fn copy(&self, name: &str, encoding: Encoding) -> Option<Bytes> {
        let key = (name.to_owned(), encoding);
        let cell = {
            let mut copies = self.copies.lock().ok()?;
            copies.entry(key.clone()).or_default().clone()
        };
        let path = self.dir.join(name);
        let copy = cell
            .get_or_try_init(|| async move {
                let data = tokio::fs::read(&path).await.map_err(|_| ())?;
                let compressed = web::block(move || encoding.compress(&data, Effort::Best))
                    .await
                    .map_err(|_| ())?
                    .map_err(|_| ())?;
                metrics::counter!("revenue_static_compressions_total", "encoding" => encoding.token()).increment(1);
                Ok::<_, ()>(Bytes::from(compressed))
            })
            .await
            .ok()
            .cloned();
        if copy.is_none() {
            // Anyone may ask for `/any-name.js`: a name without a file is
            // forgotten, or the map would keep every name ever asked for
            // (and a file that could not be read is tried again next time).
            if let Ok(mut copies) = self.copies.lock() {
                if copies
                    .get(&key)
                    .is_some_and(|c| Arc::ptr_eq(c, &cell) && !c.initialized())
                {
                    copies.remove(&key);
                }
            }
        }
        copy
    }

    /// Compresses every file compressed ahead, in every encoding (at start,
    /// in the background: the first browser need not wait).
    pub async fn warm(self: Arc<Self>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| Self::kind(n).is_some())
            .collect();
        for name in names {
            for encoding in Encoding::ALL {
                self.copy(&name, encoding).await;
            }
        }
    }

    /// The file and encoding of a request this answers: a file compressed
    /// ahead, asked for by a browser that accepts one of the encodings.
    fn wanted(head: &actix_web::dev::RequestHead) -> Option<(&str, &'static str, Encoding)> {
        let name = head.uri.path().strip_prefix('/')?;
        if !Self::plain(name) {
            return None;
        }
        let media = Self::kind(name)?;
        let accept = head.headers().get(header::ACCEPT_ENCODING)?.to_str().ok()?;
        Some((name, media, Encoding::choose(accept)?))
    }

    /// The guard of the route [`Precompressed::respond`] answers (the other
    /// requests go on to the static files service).
    pub fn applies(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
        Self::wanted(ctx.head()).is_some()
    }

    /// Answers a request [`Precompressed::applies`] to, in the encoding the
    /// browser prefers; `None`: no such file.
    pub async fn respond(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let (name, media, encoding) = Self::wanted(req.head())?;
        let body = self.copy(name, encoding).await?;
        let mut res = HttpResponse::Ok()
            .content_type(media)
            .insert_header((header::CONTENT_ENCODING, encoding.token()))
            .insert_header((header::VARY, "accept-encoding"))
            // Named by their hash: a new build has new names.
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(body);
        if req.method() == actix_web::http::Method::HEAD {
            res = res.drop_body().map_into_boxed_body();
        }
        Some(res)
    }
}

#[cfg(test)]
mod tests {
    use super::{Effort, Encoding, Precompressed};

    /// Names without a file (anyone may ask for them) leave nothing behind;
    /// a file's copies are kept.
    #[actix_web::test]
    async fn only_files_that_exist_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app-1a2b.js"), "console.log(1)".repeat(100)).unwrap();
        let files = Precompressed::new(dir.path().to_path_buf());
        for i in 0..1000 {
            assert!(files.copy(&format!("made-up-{i}.js"), Encoding::Brotli).await.is_none());
        }
        assert!(files.copy("app-1a2b.js", Encoding::Gzip).await.is_some());
        let kept = files.copies.lock().unwrap().len();
        assert_eq!(kept, 1, "{kept} names kept");
    }

    #[test]
    fn the_best_accepted_encoding() {
        assert_eq!(Encoding::choose("gzip, deflate, br, zstd"), Some(Encoding::Brotli));
        assert_eq!(Encoding::choose("gzip, zstd"), Some(Encoding::Zstd));
        assert_eq!(Encoding::choose("GZIP"), Some(Encoding::Gzip));
        assert_eq!(Encoding::choose("br;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(Encoding::choose("identity"), None);
        assert_eq!(Encoding::choose(""), None);
    }

    #[test]
    fn each_encoding_round_trips() {
        use std::io::Read;
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let br = Encoding::Brotli.compress(&data, Effort::Best).unwrap();
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(
            zstd::decode_all(&Encoding::Zstd.compress(&data, Effort::Best).unwrap()[..]).unwrap(),
            data
        );
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&Encoding::Gzip.compress(&data, Effort::Best).unwrap()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        assert!(br.len() < data.len() / 4);
    }
}
