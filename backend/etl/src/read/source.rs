//! Opening one input file and reading it line by line: every physical line is
//! accounted for.
//!
//! A record is one line. Fields are separated by the delimiter sniffed from
//! the header (tab, comma or semicolon) and may be quoted (`"a, b"`, `""` for a
//! quote), but a quoted field cannot run past the end of its line: a line whose
//! quote does not close there is rejected (`unclosed_quote`) and the next line
//! is read normally — one bad quote never swallows the rest of a file. Lines
//! end with LF, CRLF, or CR alone (old Mac exports; detected from the header).
//!
//! Memory and time are bounded on any input: only regular files are read (a
//! FIFO, device or directory is refused at once); the header may not exceed
//! [`Limits::max_header_bytes`], a line [`Limits::max_line_bytes`] (a longer
//! line is rejected and skipped without being held in memory); messages quote
//! at most [`QUOTE_CHARS`] characters of the input.
//!
//! The header is matched after normalising names (lowercase, letters and
//! digits only), so `Customer ID`, `customer_id` and `CUSTOMER-ID` are the same column.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::Xxh3;

use super::header;
use super::record::split;
pub use super::record::Record;
use crate::error::EtlError;
use crate::rows::Reject;

/// A column the ETL needs: its display name and the normalised names accepted for it.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
}

/// Size limits of the input.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Limits {
    /// The header line (a file whose first line is longer is not an export).
    pub max_header_bytes: usize,
    /// Any other line (a longer line is rejected, `line_too_long`).
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_bytes: 64 << 10,
            max_line_bytes: 1 << 20,
        }
    }
}

/// Characters of input quoted in a message, at most.
pub const QUOTE_CHARS: usize = 200;

/// Characters of a rejected line stored with it, at most.
const RAW_LINE_CHARS: usize = 2000;

/// Lowercase letters and digits only.
pub fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `text` cut to `max` characters, with `…` when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Checksum and size of the bytes read so far, shared with the reader.
#[derive(Clone, Default)]
pub struct Digested(Arc<Mutex<(Sha256, u64)>>);

impl Digested {
    pub fn finish(&self) -> (String, u64) {
        let guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let hex = guard.0.clone().finalize().iter().map(|b| format!("{b:02x}")).collect();
        (hex, guard.1)
    }
}

struct HashingReader<R> {
    inner: R,
    digest: Option<Digested>,
    /// Where the next read starts in the file.
    position: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        if let Some(d) = &self.digest {
            if let Ok(mut g) = d.0.lock() {
                g.0.update(&buf[..n]);
                g.1 += n as u64;
            }
        }
        Ok(n)
    }
}

/// Only a reader that does not hash moves: a checksum is of every byte once, in order.
impl<R: Seek> Seek for HashingReader<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        if self.digest.is_some() {
            return Err(std::io::Error::other("a file being checksummed is read in order"));
        }
        self.position = self.inner.seek(to)?;
        Ok(self.position)
    }
}

/// One physical line, as read.
enum Line {
    Text,
    /// Longer than the limit: skipped; its first bytes are kept.
    TooLong {
        bytes: u64,
    },
    Eof,
}

/// An open input file positioned after its header.
pub struct Source {
    pub path: PathBuf,
    pub delimiter: u8,
    /// Index of each requested column in a record.
    pub positions: Vec<usize>,
    reader: BufReader<HashingReader<File>>,
    /// `\n` (LF or CRLF) or `\r` (CR alone).
    terminator: u8,
    limits: Limits,
    /// Physical line number of the last line read (header = 1).
    line: u64,
    /// Where the last line read starts in the file (bytes).
    line_start: u64,
    /// Blank data lines (not rows).
    pub blank_lines: u64,
}

pub(super) fn read_error(path: &Path, line: u64) -> impl Fn(std::io::Error) -> EtlError + '_ {
    move |e| EtlError::Read {
        path: path.to_owned(),
        line,
        message: e.to_string(),
    }
}

impl Source {
    /// Opens `path`, strips a UTF-8 BOM, sniffs the line ending and the
    /// delimiter (tab, comma or semicolon) from the header and maps `columns`
    /// to positions. `digest` (if given) sees every byte read.
    pub fn open(path: &Path, columns: &[Column], digest: Option<Digested>, limits: Limits) -> Result<Self, EtlError> {
        Self::open_buffered(path, columns, digest, limits, 1 << 20)
    }

    /// Opens `path` again to read some of its lines by position
    /// ([`for_rows_at`]): a smaller buffer, since each jump past it reads
    /// the buffer's size again.
    pub fn reopen(&self, columns: &[Column]) -> Result<Self, EtlError> {
        Self::open_buffered(&self.path, columns, None, self.limits, 64 << 10)
    }

    fn open_buffered(
        path: &Path,
        columns: &[Column],
        digest: Option<Digested>,
        limits: Limits,
        buffer: usize,
    ) -> Result<Self, EtlError> {
        header::check_file(path)?;
        let file = File::open(path).map_err(|source| EtlError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut reader = BufReader::with_capacity(
            buffer,
            HashingReader {
                inner: file,
                digest,
                position: 0,
            },
        );
        let (header, terminator) = header::read(&mut reader, path, limits)?;
        let (delimiter, positions) = header::columns(&header, path, columns)?;
        Ok(Self {
            path: path.to_owned(),
            delimiter,
            positions,
            reader,
            terminator,
            limits,
            line: 1,
            line_start: 0,
            blank_lines: 0,
        })
    }

    /// Where the next line starts in the file.
    fn position(&self) -> u64 {
        self.reader.get_ref().position - self.reader.buffer().len() as u64
    }

    /// Moves to the line numbered `line` that starts at byte `offset`
    /// (as [`RawRow`] gave them), keeping what is buffered when it is near.
    fn seek_line(&mut self, line: u64, offset: u64) -> Result<(), EtlError> {
        let error = read_error(&self.path, line);
        match offset.checked_sub(self.position()).and_then(|d| i64::try_from(d).ok()) {
            Some(ahead) => self.reader.seek_relative(ahead).map_err(error)?,
            None => {
                self.reader.seek(SeekFrom::Start(offset)).map_err(error)?;
            }
        }
        self.line = line.saturating_sub(1);
        Ok(())
    }

    /// Reads the next physical line into `buf` (without its terminator), never
    /// holding more than the line limit.
    fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<Line, EtlError> {
        buf.clear();
        self.line_start = self.position();
        let mut total: u64 = 0;
        let mut too_long = false;
        // Room for a CR before an LF, which is not part of the line.
        let limit = self.limits.max_line_bytes + usize::from(self.terminator == b'\n');
        loop {
            let chunk = self.reader.fill_buf().map_err(read_error(&self.path, self.line + 1))?;
            if chunk.is_empty() {
                if total == 0 {
                    return Ok(Line::Eof);
                }
                break;
            }
            let (take, done) = match memchr::memchr(self.terminator, chunk) {
                Some(k) => (k, true),
                None => (chunk.len(), false),
            };
            total += take as u64;
            if !too_long {
                let room = limit.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..take.min(room)]);
                too_long = take > room;
            }
            self.reader.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        self.line += 1;
        if self.terminator == b'\n' && buf.last() == Some(&b'\r') && !too_long {
            buf.pop();
            total -= 1;
        }
        // An LF line one byte over the limit fitted the CR's room.
        too_long |= buf.len() > self.limits.max_line_bytes;
        Ok(if too_long {
            Line::TooLong { bytes: total }
        } else {
            Line::Text
        })
    }
}

/// One data line: its physical line number (header = 1) and its fields, or
/// why it could not be split into fields (then every [`RawRow::field`] says so).
pub struct RawRow<'a> {
    pub line: u64,
    /// Where the line starts in the file (bytes), to read it again ([`for_rows_at`]).
    pub offset: u64,
    pub record: &'a Record,
    /// The line as read (at most the line limit).
    text: &'a [u8],
    malformed: Option<&'a Reject>,
}

/// A field's bytes trimmed as [`RawRow::field`] trims them (white space as
/// Unicode defines it when the field is UTF-8, ASCII white space otherwise),
/// so that two fields that read the same are the same bytes here: the
/// repeated-id scan and the grouping of repeated rows use it, and trimming
/// ASCII only there once let `t9` and `t9` + a no-break space through as
/// two different ids, both then loaded as `t9`.
pub fn trimmed(field: &[u8]) -> &[u8] {
    match std::str::from_utf8(field) {
        Ok(text) => text.trim().as_bytes(),
        Err(_) => field.trim_ascii(),
    }
}

impl RawRow<'_> {
    /// A hash of what the row says: its fields as read (trimmed, each
    /// after its length, so that no byte inside a field can pass for a
    /// boundary), or for a line that could not be split into fields, the
    /// line itself (its fields up to the fault could equal a valid row's).
    pub fn content_hash(&self) -> u64 {
        let mut h = Xxh3::new();
        match self.malformed {
            Some(_) => {
                h.update(b"malformed");
                h.update(self.text);
            }
            None => {
                for field in self.record.iter() {
                    let field = trimmed(field);
                    h.update(&(field.len() as u64).to_le_bytes());
                    h.update(field);
                }
            }
        }
        h.digest()
    }

    /// The line as read, for the rejected-row table (invalid bytes replaced).
    pub fn raw_line(&self) -> String {
        // NUL cannot be stored in a database text column; show it as U+2400 (␀).
        let text = String::from_utf8_lossy(self.text).replace('\0', "\u{2400}");
        excerpt(&text, RAW_LINE_CHARS)
    }

    /// Field at `pos` as UTF-8, trimmed; an explanation if it is missing, not
    /// UTF-8, or the line could not be split into fields.
    pub fn field(&self, pos: usize, column: &str) -> Result<&str, Reject> {
        if let Some(reject) = self.malformed {
            return Err(reject.clone());
        }
        let bytes = self.record.get(pos).ok_or_else(|| {
            Reject::new(
                "missing_field",
                format!("missing column {column:?}: the row has {} fields", self.record.len()),
            )
        })?;
        if memchr::memchr(0, bytes).is_some() {
            return Err(Reject::new(
                "nul_byte",
                format!("column {column:?} contains a NUL byte (0x00), which a database text column cannot store"),
            ));
        }
        std::str::from_utf8(bytes).map(str::trim).map_err(|_| {
            Reject::new(
                "invalid_utf8",
                format!(
                    "column {column:?} is not valid UTF-8: {:?}",
                    excerpt(&String::from_utf8_lossy(bytes), QUOTE_CHARS)
                ),
            )
        })
    }
}

/// Calls `f` for each data line of a source (blank lines are skipped and
/// counted in [`Source::blank_lines`]); returns the lines read. Every line is
/// passed on — a line that cannot be split into fields, or that exceeds the
/// limit, as a row whose fields all carry the reason — so callers account for
/// every line.
pub fn for_each_row(
    source: &mut Source,
    mut f: impl FnMut(RawRow<'_>) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let mut buf = Vec::new();
    let mut record = Record::default();
    let mut rows = 0;
    loop {
        let line = source.next_line(&mut buf)?;
        let malformed = match line {
            Line::Eof => return Ok(rows),
            Line::Text if buf.iter().all(u8::is_ascii_whitespace) => {
                source.blank_lines += 1;
                continue;
            }
            line => source.fields(line, &buf, &mut record),
        };
        rows += 1;
        f(source.row(&record, &buf, malformed.as_ref()))?;
    }
}

/// Reads again the rows at `at` — (line, offset) as [`RawRow`] gave them,
/// in file order — and calls `f` for each, as [`for_each_row`] did. A
/// line that is no longer there (or now blank) means the file changed.
pub fn for_rows_at(
    source: &mut Source,
    at: impl IntoIterator<Item = (u64, u64)>,
    file: &'static str,
    mut f: impl FnMut(RawRow<'_>) -> Result<(), EtlError>,
) -> Result<(), EtlError> {
    let mut buf = Vec::new();
    let mut record = Record::default();
    for (line, offset) in at {
        source.seek_line(line, offset)?;
        let malformed = match source.next_line(&mut buf)? {
            Line::Text if buf.iter().all(u8::is_ascii_whitespace) => None,
            Line::Eof => None,
            line => Some(source.fields(line, &buf, &mut record)),
        };
        let Some(malformed) = malformed else {
            return Err(EtlError::LineChanged { file, line });
        };
        f(source.row(&record, &buf, malformed.as_ref()))?;
    }
    Ok(())
}

impl Source {
    /// Splits a line read into `record`; why it cannot be, if so.
    fn fields(&self, line: Line, buf: &[u8], record: &mut Record) -> Option<Reject> {
        match line {
            Line::TooLong { bytes } => {
                record.clear();
                Some(Reject::new(
                    "line_too_long",
                    format!(
                        "the line has {bytes} bytes, more than the limit of {} (--max-line-bytes)",
                        self.limits.max_line_bytes
                    ),
                ))
            }
            _ => split(buf, self.delimiter, record).err(),
        }
    }

    /// The row of the line just read.
    fn row<'a>(&self, record: &'a Record, text: &'a [u8], malformed: Option<&'a Reject>) -> RawRow<'a> {
        RawRow {
            line: self.line,
            offset: self.line_start,
            record,
            text,
            malformed,
        }
    }
}

#[cfg(test)]
mod tests;
