//! The rejected rows of one input file, kept until the run stores them in
//! `etl_rejected_row` (a refused run stores them too: they say why).
//!
//! A row costs about 270 bytes in memory (its raw line, the sentence saying
//! why, the struct), and a file in a format the run does not read — dates
//! written another way, a decimal comma — rejects every row: 270 MB at 1M
//! rows, 13 GB at 50M, where the run should end with a clear refusal. So
//! the first [`IN_MEMORY`] rows stay in memory and the others go to an
//! anonymous temporary file (deleted when closed, whatever happens), read
//! back a chunk at a time when the rows are stored. The reasons are
//! tallied as rows come, for the run's summary and quality figures.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use crate::audit::ReasonCount;
use crate::error::EtlError;
use crate::load::Loader;
use crate::rows::RejectedRow;

/// Rows kept in memory before the rest go to a temporary file (about 27 MB).
const IN_MEMORY: usize = if cfg!(test) { 3 } else { 100_000 };

/// Rows read back from the temporary file and stored at a time.
const CHUNK: usize = 8192;

/// The rejected rows of one file, in the order they were rejected.
#[derive(Default)]
pub struct Rejects {
    rows: Vec<RejectedRow>,
    /// Behind a lock only so that storing them can flush it through `&self`.
    spill: Option<Mutex<Spill>>,
    spilled: u64,
    /// Per (file, reason): how many rows, the first line and its sentence.
    tally: BTreeMap<(&'static str, &'static str), ReasonCount>,
}

/// Rows beyond [`IN_MEMORY`], written one after the other.
struct Spill {
    /// `None` when no temporary file could be made (`failed` says why).
    out: Option<BufWriter<File>>,
    /// The `&'static str`s of the rows written (files and reason codes):
    /// a row stores their indexes.
    names: Vec<&'static str>,
    /// The first failure to write; reported when the rows are stored.
    failed: Option<std::io::Error>,
}

impl Rejects {
    /// How many rows were rejected.
    pub fn len(&self) -> u64 {
        self.rows.len() as u64 + self.spilled
    }

    /// Adds a rejected row.
    pub fn push(&mut self, row: RejectedRow) {
        let entry = self
            .tally
            .entry((row.file, row.reason_code))
            .or_insert_with(|| ReasonCount {
                file: row.file,
                reason: row.reason_code,
                rows: 0,
                first_line: row.line_number,
                example: row.reason.clone(),
            });
        entry.rows += 1;
        if row.line_number < entry.first_line {
            entry.first_line = row.line_number;
            entry.example = row.reason.clone();
        }
        if self.rows.len() < IN_MEMORY {
            self.rows.push(row);
            return;
        }
        self.spilled += 1;
        let spill = self.spill.get_or_insert_with(|| {
            // A failure is reported when the rows are stored.
            let (out, failed) = match tempfile::tempfile() {
                Ok(file) => (Some(BufWriter::new(file)), None),
                Err(e) => (None, Some(e)),
            };
            Mutex::new(Spill {
                out,
                names: Vec::new(),
                failed,
            })
        });
        let spill = spill.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        if spill.failed.is_none() {
            if let Err(e) = spill.write(&row) {
                spill.failed = Some(e);
            }
        }
    }

    /// Per (file, reason): how many rows, the first line and its sentence.
    pub fn reasons(&self) -> impl Iterator<Item = &ReasonCount> {
        self.tally.values()
    }

    /// How many rows were rejected for any of `codes`.
    pub fn count_of(&self, codes: &[&str]) -> u64 {
        self.tally
            .values()
            .filter(|r| codes.contains(&r.reason))
            .map(|r| r.rows)
            .sum()
    }

    /// Stores every row (in memory, then those in the temporary file, a
    /// chunk at a time). Fails if any row written to the file cannot be
    /// read back.
    pub async fn store(&self, loader: &mut Loader) -> Result<(), EtlError> {
        for chunk in self.rows.chunks(CHUNK) {
            loader.write(chunk).await?;
        }
        let Some(spill) = &self.spill else {
            return Ok(());
        };
        tracing::debug!(
            rows = self.len(),
            spilled = self.spilled,
            "rejected rows read back from a temporary file"
        );
        let (file, names) = {
            let mut spill = spill.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let flushed = match (spill.failed.take(), spill.out.as_mut()) {
                (Some(e), _) => Err(e),
                (None, Some(out)) => out.flush().and_then(|()| out.get_ref().try_clone()),
                (None, None) => Err(std::io::Error::other("no temporary file")),
            };
            (flushed.map_err(spilled)?, spill.names.clone())
        };
        let mut input = BufReader::new(file);
        input.seek(SeekFrom::Start(0)).map_err(spilled)?;
        let mut left = self.spilled;
        while left > 0 {
            let n = left.min(CHUNK as u64);
            let mut chunk = Vec::with_capacity(n as usize);
            for _ in 0..n {
                chunk.push(read_row(&mut input, &names).map_err(spilled)?);
            }
            loader.write(&chunk).await?;
            left -= n;
        }
        Ok(())
    }

    /// Every row, read back (tests).
    #[cfg(test)]
    pub fn all(&self) -> Vec<RejectedRow> {
        let mut out = self.rows.clone();
        if let Some(spill) = &self.spill {
            let mut spill = spill.lock().unwrap();
            let writer = spill.out.as_mut().unwrap();
            writer.flush().unwrap();
            let mut input = BufReader::new(writer.get_ref().try_clone().unwrap());
            input.seek(SeekFrom::Start(0)).unwrap();
            for _ in 0..self.spilled {
                out.push(read_row(&mut input, &spill.names).unwrap());
            }
        }
        out
    }
}

fn spilled(e: std::io::Error) -> EtlError {
    EtlError::Internal(format!(
        "rejected rows kept in a temporary file cannot be written or read back: {e}"
    ))
}

impl Spill {
    /// `name`'s index in `names` (added if new).
    fn name(&mut self, name: &'static str) -> std::io::Result<u16> {
        let i = match self.names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                self.names.push(name);
                self.names.len() - 1
            }
        };
        u16::try_from(i).map_err(std::io::Error::other)
    }

    /// A row as: run id, line, file and reason code (indexes into
    /// `names`), then the reason and the raw line, each its length first.
    fn write(&mut self, row: &RejectedRow) -> std::io::Result<()> {
        let file = self.name(row.file)?;
        let code = self.name(row.reason_code)?;
        let Some(out) = self.out.as_mut() else {
            return Err(std::io::Error::other("no temporary file"));
        };
        out.write_all(&row.run_id.to_le_bytes())?;
        out.write_all(&row.line_number.to_le_bytes())?;
        out.write_all(&file.to_le_bytes())?;
        out.write_all(&code.to_le_bytes())?;
        for text in [&row.reason, &row.raw_line] {
            let len = u32::try_from(text.len()).map_err(std::io::Error::other)?;
            out.write_all(&len.to_le_bytes())?;
            out.write_all(text.as_bytes())?;
        }
        Ok(())
    }
}

fn read_row(input: &mut impl Read, names: &[&'static str]) -> std::io::Result<RejectedRow> {
    fn bytes<const N: usize>(input: &mut impl Read) -> std::io::Result<[u8; N]> {
        let mut b = [0; N];
        input.read_exact(&mut b)?;
        Ok(b)
    }
    let name = |i: u16| {
        names
            .get(usize::from(i))
            .copied()
            .ok_or_else(|| std::io::Error::other("a name the file does not have"))
    };
    let run_id = i64::from_le_bytes(bytes(input)?);
    let line_number = i64::from_le_bytes(bytes(input)?);
    let file = name(u16::from_le_bytes(bytes(input)?))?;
    let reason_code = name(u16::from_le_bytes(bytes(input)?))?;
    let mut text = || -> std::io::Result<String> {
        let len = u32::from_le_bytes(bytes(input)?) as usize;
        let mut b = vec![0; len];
        input.read_exact(&mut b)?;
        String::from_utf8(b).map_err(std::io::Error::other)
    };
    let reason = text()?;
    let raw_line = text()?;
    Ok(RejectedRow {
        run_id,
        file,
        line_number,
        reason_code,
        reason,
        raw_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: i64, code: &'static str) -> RejectedRow {
        RejectedRow {
            run_id: 7,
            file: "transactions.csv",
            line_number: line,
            reason_code: code,
            reason: format!("why {line}"),
            raw_line: format!("raw\t{line}\u{2400}é"),
        }
    }

    /// Rows beyond those kept in memory come back from the temporary file
    /// whole and in order, and the tally counts every row.
    #[test]
    fn rows_past_memory_come_back_whole_in_order() {
        let mut rejects = Rejects::default();
        let codes = ["invalid_date", "invalid_total"];
        for line in 2..12 {
            rejects.push(row(line, codes[(line % 2) as usize]));
        }
        assert_eq!(rejects.len(), 10);
        assert!(rejects.spill.is_some());
        let all = rejects.all();
        let got: Vec<(i64, &str, &str, &str)> = all
            .iter()
            .map(|r| (r.line_number, r.reason_code, r.reason.as_str(), r.raw_line.as_str()))
            .collect();
        let want: Vec<(i64, &str, String, String)> = (2..12)
            .map(|l| {
                (
                    l,
                    codes[(l % 2) as usize],
                    format!("why {l}"),
                    format!("raw\t{l}\u{2400}é"),
                )
            })
            .collect();
        let want: Vec<(i64, &str, &str, &str)> = want.iter().map(|w| (w.0, w.1, w.2.as_str(), w.3.as_str())).collect();
        assert_eq!(got, want);
        assert!(all.iter().all(|r| r.run_id == 7 && r.file == "transactions.csv"));
        let tally: Vec<(&str, u64, i64)> = rejects.reasons().map(|r| (r.reason, r.rows, r.first_line)).collect();
        assert_eq!(tally, [("invalid_date", 5, 2), ("invalid_total", 5, 3)]);
        assert_eq!(rejects.count_of(&["invalid_total"]), 5);
    }
}
