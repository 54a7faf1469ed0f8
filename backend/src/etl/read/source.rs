//! Opening one input file: BOM, delimiter sniffing, header matching, checksums.
//!
//! Files are streamed through the `csv` crate in `flexible` mode; the header is
//! matched after normalising names (lowercase, letters and digits only), so
//! `Customer ID`, `customer_id` and `CUSTOMER-ID` are the same column.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::etl::error::EtlError;
use crate::etl::rows::Reject;

/// A column the ETL needs: its display name and the normalised names accepted for it.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
}

/// Lowercase letters and digits only.
pub fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
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
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(d) = &self.digest {
            if let Ok(mut g) = d.0.lock() {
                g.0.update(&buf[..n]);
                g.1 += n as u64;
            }
        }
        Ok(n)
    }
}

/// Records the offsets of line breaks in the stream after the header, so that a
/// record's byte offset maps to its physical line number (the csv crate's own
/// line counter is wrong for CRLF files). Holds only the read-ahead window.
struct LineTracker<R> {
    inner: R,
    offset: u64,
    newlines: Arc<Mutex<std::collections::VecDeque<u64>>>,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut q) = self.newlines.lock() {
            q.extend(memchr::memchr_iter(b'\n', &buf[..n]).map(|p| self.offset + p as u64));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// An open input file positioned after its header.
pub struct Source {
    pub path: PathBuf,
    pub delimiter: u8,
    /// Index of each requested column in a record.
    pub positions: Vec<usize>,
    pub reader: csv::Reader<Box<dyn Read + Send>>,
    newlines: Arc<Mutex<std::collections::VecDeque<u64>>>,
    lines_before: u64,
}

impl Source {
    /// The physical line (1-based, header = 1) at byte `offset` after the header.
    /// Offsets must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        if let Ok(mut q) = self.newlines.lock() {
            // `<=`: after a CRLF the csv crate reports the record as starting at the `\n`.
            while q.front().is_some_and(|&p| p <= offset) {
                q.pop_front();
                self.lines_before += 1;
            }
        }
        self.lines_before + 2
    }
}

impl Source {
    /// Opens `path`, strips a UTF-8 BOM, sniffs tab vs comma from the header and
    /// maps `columns` to positions. `digest` (if given) sees every byte read.
    pub fn open(path: &Path, columns: &[Column], digest: Option<Digested>) -> Result<Self, EtlError> {
        let file = File::open(path).map_err(|source| EtlError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut reader = BufReader::with_capacity(1 << 20, HashingReader { inner: file, digest });
        let expected = || columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
        let mut header = Vec::new();
        reader.read_until(b'\n', &mut header).map_err(|e| EtlError::Read {
            path: path.to_owned(),
            line: 1,
            message: e.to_string(),
        })?;
        let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&header);
        let header = std::str::from_utf8(header).map_err(|_| EtlError::HeaderEncoding { path: path.to_owned() })?;
        let header = header.trim_end_matches(['\r', '\n']);
        if header.trim().is_empty() {
            return Err(EtlError::Empty {
                path: path.to_owned(),
                expected: expected(),
            });
        }
        let delimiter = if header.matches('\t').count() >= header.matches(',').count() && header.contains('\t') {
            b'\t'
        } else if header.contains(';') && !header.contains(',') {
            b';'
        } else {
            b','
        };
        let names: Vec<String> = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .from_reader(header.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(str::to_owned).collect())
            .unwrap_or_default();
        let normalised: Vec<String> = names.iter().map(|n| normalise(n)).collect();
        let positions = columns
            .iter()
            .map(|col| {
                normalised
                    .iter()
                    .position(|n| col.aliases.contains(&n.as_str()))
                    .ok_or_else(|| EtlError::MissingColumn {
                        path: path.to_owned(),
                        column: col.name,
                        found: names.join(", "),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let newlines = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let body: Box<dyn Read + Send> = Box::new(LineTracker {
            inner: reader,
            offset: 0,
            newlines: newlines.clone(),
        });
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(body);
        Ok(Self {
            path: path.to_owned(),
            delimiter,
            positions,
            reader,
            newlines,
            lines_before: 0,
        })
    }
}

/// One data row: its 1-based line number in the file and its fields.
pub struct RawRow<'a> {
    pub line: u64,
    pub record: &'a csv::ByteRecord,
    pub delimiter: u8,
}

impl RawRow<'_> {
    /// The row as text, for the rejected-row table (invalid bytes replaced).
    pub fn raw_line(&self) -> String {
        let sep = [self.delimiter];
        let joined = self.record.iter().collect::<Vec<_>>().join(&sep[..]);
        // NUL cannot be stored in a database text column; show it as U+2400 (␀).
        let mut text = String::from_utf8_lossy(&joined).replace('\0', "\u{2400}");
        if text.len() > 2000 {
            let mut cut = 2000;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    /// Field at `pos` as UTF-8, trimmed; an explanation if it is missing or not UTF-8.
    pub fn field(&self, pos: usize, column: &str) -> Result<&str, Reject> {
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
                    String::from_utf8_lossy(bytes)
                ),
            )
        })
    }
}

/// Iterates the data rows of a source, calling `f` for each; returns rows read.
/// A row that cannot be decoded at all (I/O error) stops with an error.
pub fn for_each_row(
    source: &mut Source,
    mut f: impl FnMut(RawRow<'_>) -> Result<(), EtlError>,
) -> Result<u64, EtlError> {
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    loop {
        let more = source
            .reader
            .read_byte_record(&mut record)
            .map_err(|e| EtlError::Read {
                path: source.path.clone(),
                line: e.position().map_or(0, |p| p.line() + 2),
                message: e.to_string(),
            })?;
        if !more {
            return Ok(rows);
        }
        // A blank line (e.g. a trailing newline pair) is not a row.
        if record.len() == 1 && record.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        rows += 1;
        let line = record.position().map_or(0, |p| source.line_at(p.byte()));
        f(RawRow {
            line,
            record: &record,
            delimiter: source.delimiter,
        })?;
    }
}
