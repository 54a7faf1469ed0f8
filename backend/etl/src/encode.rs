//! Row encoders, one per way rows reach a database: PostgreSQL's COPY text and
//! binary formats, and SQLite's bound parameters; and the readers of stored
//! rows. Each is a [`CellWriter`] / [`CellReader`], so a row type is described
//! once (`rows.rs`) and encoded for every engine.

use chrono::NaiveDateTime;
use sqlx::Row as _;

use crate::rows::{timestamp_text, CellReader, CellWriter, FactRef, Row};

/// PostgreSQL's binary COPY format for the fact rows: no text to format on our
/// side and none to parse on the server's (timestamps especially).
pub mod copy_binary {
    use super::*;

    const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
    /// 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix microseconds.
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

    /// Starts a COPY data stream (then any number of rows).
    pub fn start(out: &mut Vec<u8>) {
        out.extend_from_slice(HEADER);
    }

    /// Ends a COPY data stream.
    pub fn finish(out: &mut Vec<u8>) {
        out.extend_from_slice(&(-1i16).to_be_bytes());
    }

    /// Appends one transaction (the columns of `FactRow::COLUMNS`).
    pub fn fact(out: &mut Vec<u8>, fact: &FactRef<'_>) {
        out.extend_from_slice(&6i16.to_be_bytes());
        fact.write(&mut Binary(out));
    }

    struct Binary<'a>(&'a mut Vec<u8>);

    impl CellWriter for Binary<'_> {
        fn text(&mut self, value: &str) {
            self.bytes(value.as_bytes());
        }
        fn opt_text(&mut self, value: Option<&str>) {
            match value {
                Some(v) => self.text(v),
                None => self.0.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        fn int(&mut self, value: i64) {
            self.0.extend_from_slice(&8i32.to_be_bytes());
            self.0.extend_from_slice(&value.to_be_bytes());
        }
        fn opt_int(&mut self, value: Option<i64>) {
            match value {
                Some(v) => self.int(v),
                None => self.0.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        fn boolean(&mut self, value: bool) {
            self.0.extend_from_slice(&1i32.to_be_bytes());
            self.0.push(u8::from(value));
        }
        fn timestamp(&mut self, value: &NaiveDateTime) {
            self.int(value.and_utc().timestamp_micros() - PG_EPOCH_MICROS);
        }
        fn bytes(&mut self, value: &[u8]) {
            self.0.extend_from_slice(&(value.len() as i32).to_be_bytes());
            self.0.extend_from_slice(value);
        }
    }
}

/// Encodes cells in PostgreSQL's COPY text format.
struct CopyText<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl CopyText<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b'\t');
        }
        self.first = false;
    }
}

impl CellWriter for CopyText<'_> {
    fn text(&mut self, value: &str) {
        self.sep();
        for &b in value.as_bytes() {
            match b {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                _ => self.out.push(b),
            }
        }
    }
    fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.out.extend_from_slice(b"\\N");
            }
        }
    }
    fn int(&mut self, value: i64) {
        use std::io::Write;
        self.sep();
        let _ = write!(self.out, "{value}");
    }
    fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(v) => self.int(v),
            None => {
                self.sep();
                self.out.extend_from_slice(b"\\N");
            }
        }
    }
    fn boolean(&mut self, value: bool) {
        self.sep();
        self.out.push(if value { b't' } else { b'f' });
    }
    fn timestamp(&mut self, value: &NaiveDateTime) {
        self.sep();
        let mut text = String::with_capacity(26);
        timestamp_text(&mut text, value);
        self.out.extend_from_slice(text.as_bytes());
    }
    fn bytes(&mut self, value: &[u8]) {
        // bytea's hex form, its backslash escaped for COPY: `\\x0a1b`.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.sep();
        self.out.extend_from_slice(b"\\\\x");
        for &b in value {
            self.out.push(HEX[usize::from(b >> 4)]);
            self.out.push(HEX[usize::from(b & 15)]);
        }
    }
}

/// Rows in COPY text format, one per line.
pub fn copy_text<R: Row>(rows: &[R]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(rows.len() * 96);
    for row in rows {
        row.write(&mut CopyText {
            out: &mut buf,
            first: true,
        });
        buf.push(b'\n');
    }
    buf
}

/// Binds the cells of one row to a prepared SQLite statement (`?1`, `?2`, …).
pub struct SqliteBind<'s, 'c> {
    pub stmt: &'s mut rusqlite::Statement<'c>,
    pub index: usize,
    pub error: Option<rusqlite::Error>,
    pub scratch: String,
}

impl SqliteBind<'_, '_> {
    fn bind<T: rusqlite::ToSql>(&mut self, value: T) {
        self.index += 1;
        if let Err(e) = self.stmt.raw_bind_parameter(self.index, value) {
            self.error.get_or_insert(e);
        }
    }
}

impl CellWriter for SqliteBind<'_, '_> {
    fn text(&mut self, value: &str) {
        self.bind(value);
    }
    fn opt_text(&mut self, value: Option<&str>) {
        self.bind(value);
    }
    fn int(&mut self, value: i64) {
        self.bind(value);
    }
    fn opt_int(&mut self, value: Option<i64>) {
        self.bind(value);
    }
    fn boolean(&mut self, value: bool) {
        self.bind(i64::from(value));
    }
    fn timestamp(&mut self, value: &NaiveDateTime) {
        // Bound as the text sqlx (and so SeaORM) reads back.
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        timestamp_text(&mut text, value);
        self.bind(text.as_str());
        self.scratch = text;
    }
    fn bytes(&mut self, value: &[u8]) {
        self.bind(value);
    }
}

macro_rules! cell_reader {
    ($row:ty) => {
        impl CellReader for $row {
            fn text(&self, i: usize) -> Result<String, sqlx::Error> {
                self.try_get(i)
            }
            fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
                self.try_get(i)
            }
            fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
                self.try_get(i)
            }
            fn boolean(&self, i: usize) -> Result<bool, sqlx::Error> {
                self.try_get(i)
            }
            fn timestamp(&self, i: usize) -> Result<NaiveDateTime, sqlx::Error> {
                self.try_get(i)
            }
            fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, sqlx::Error> {
                self.try_get(i)
            }
        }
    };
}

cell_reader!(sqlx::postgres::PgRow);
cell_reader!(sqlx::sqlite::SqliteRow);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::CustomerSpendingRow;

    #[test]
    fn copy_text_escapes_and_encodes_bytes() {
        let row = CustomerSpendingRow {
            currency: "usd",
            customer_id: "a\tb\\c".to_owned(),
            total_spending_cents: -5,
            transactions: 2,
            active_months: vec![0, 0x1b, 0xff],
        };
        assert_eq!(
            String::from_utf8(copy_text(&[row])).unwrap(),
            "usd\ta\\tb\\\\c\t-5\t2\t\\\\x001bff\n"
        );
    }
}
