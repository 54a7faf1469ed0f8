//! An input file's header: reading it within its limit, its encoding, its
//! line ending and delimiter, and where the columns the ETL needs are.

use std::io::BufRead;
use std::path::Path;

use super::record::{split, Record};
use super::source::{excerpt, normalise, read_error, Column, Limits, QUOTE_CHARS};
use crate::error::EtlError;

/// Refuses what is not a regular file, and links that lead out of the input
/// folder (their content is not the operator's export, and would show in messages).
pub(super) fn check_file(path: &Path) -> Result<(), EtlError> {
    let open_error = |source| EtlError::Open {
        path: path.to_owned(),
        source,
    };
    let link = std::fs::symlink_metadata(path).map_err(open_error)?;
    if link.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(open_error)?;
        let folder = path
            .parent()
            .map(std::fs::canonicalize)
            .transpose()
            .map_err(open_error)?
            .unwrap_or_default();
        if !target.starts_with(&folder) {
            return Err(EtlError::NotAFile {
                path: path.to_owned(),
                what: "a symbolic link to a file outside the input folder",
            });
        }
    }
    let meta = std::fs::metadata(path).map_err(open_error)?;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    Err(EtlError::NotAFile {
        path: path.to_owned(),
        what: if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file (a pipe, socket or device)"
        },
    })
}

/// Reads the header: up to the first LF or CR, at most `max_header_bytes`.
/// Returns it with the line terminator of the file: `\n` (LF or CRLF) or
/// `\r` (CR alone).
pub(super) fn read(reader: &mut impl BufRead, path: &Path, limits: Limits) -> Result<(Vec<u8>, u8), EtlError> {
    let mut header = Vec::new();
    let terminator = loop {
        let buf = reader.fill_buf().map_err(read_error(path, 1))?;
        if buf.is_empty() {
            break b'\n';
        }
        let room = limits.max_header_bytes + 1 - header.len();
        let window = &buf[..buf.len().min(room)];
        match memchr::memchr2(b'\n', b'\r', window) {
            Some(k) => {
                let end = buf[k];
                header.extend_from_slice(&window[..k]);
                reader.consume(k + 1);
                if end == b'\n' {
                    break b'\n';
                }
                // CR: CRLF, or CR alone (then every line ends with CR).
                let next = reader.fill_buf().map_err(read_error(path, 1))?;
                if next.first() == Some(&b'\n') {
                    reader.consume(1);
                    break b'\n';
                }
                break if next.is_empty() { b'\n' } else { b'\r' };
            }
            None => {
                let n = window.len();
                header.extend_from_slice(window);
                reader.consume(n);
                if header.len() > limits.max_header_bytes {
                    return Err(EtlError::HeaderTooLong {
                        path: path.to_owned(),
                        limit: limits.max_header_bytes,
                        start: excerpt(&String::from_utf8_lossy(&header), QUOTE_CHARS),
                    });
                }
            }
        }
    };
    Ok((header, terminator))
}

/// The header as text: UTF-8, its BOM stripped, not blank.
fn decode<'h>(header: &'h [u8], path: &Path, columns: &[Column]) -> Result<&'h str, EtlError> {
    if header.starts_with(b"\xFF\xFE") || header.starts_with(b"\xFE\xFF") {
        return Err(EtlError::HeaderEncoding {
            path: path.to_owned(),
            found: "UTF-16".to_owned(),
        });
    }
    let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
    let header = std::str::from_utf8(header).map_err(|_| EtlError::HeaderEncoding {
        path: path.to_owned(),
        found: "not UTF-8".to_owned(),
    })?;
    if header.trim().is_empty() {
        return Err(EtlError::Empty {
            path: path.to_owned(),
            expected: columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(header)
}

/// The delimiter sniffed from the header (tab, comma or semicolon), and the
/// position of each of `columns` in a record.
pub(super) fn columns(header: &[u8], path: &Path, columns: &[Column]) -> Result<(u8, Vec<usize>), EtlError> {
    let header = decode(header, path, columns)?;
    let delimiter = if header.matches('\t').count() >= header.matches(',').count() && header.contains('\t') {
        b'\t'
    } else if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    };
    let mut record = Record::default();
    split(header.as_bytes(), delimiter, &mut record).map_err(|reject| EtlError::Read {
        path: path.to_owned(),
        line: 1,
        message: format!("the header: {}", reject.message),
    })?;
    let names: Vec<String> = record
        .iter()
        .map(|n| String::from_utf8_lossy(n).trim().to_owned())
        .collect();
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
                    found: excerpt(&names.join(", "), QUOTE_CHARS),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((delimiter, positions))
}
