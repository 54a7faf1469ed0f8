//! The rejected rows of one input file, kept until the run stores them in
//! `etl_rejected_row` (a refused run stores them too: they say why).
//!
//! A row costs about 270 bytes in memory (its raw line, the sentence saying
//! why, the struct), and a file in a format the run does not read — dates
//! written another way, a decimal comma — rejects every row: 270 MB at 1M
//! rows, 13 GB at 50M, where the run should end with a clear refusal. So
//! the first [`IN_MEMORY`] rows stay in memory and the others go to an
//! anonymous temporary file (in `TMPDIR`, deleted when closed, whatever
//! happens), read back a chunk at a time when the rows are stored. Where
//! no temporary file can be made or written (a missing `TMPDIR`, a full
//! disk), the rows stay in memory, as before there was a file, with a
//! warning: the run does not fail for want of a scratch file. The reasons
//! are tallied as rows come, for the run's summary and quality figures.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::error::EtlError;
use crate::rows::RejectedRow;

/// How often one reason rejected rows of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub file: &'static str,
    pub reason: &'static str,
    pub rows: u64,
    /// The first rejected line for this reason, and why.
    pub first_line: i64,
    pub example: String,
}

/// Rows kept in memory before the rest go to a temporary file (about 27 MB).
const IN_MEMORY: usize = if cfg!(test) { 3 } else { 100_000 };

/// Rows stored at a time once past those in memory: as many as are kept
/// in memory (each store is a statement of its own, a COPY on PostgreSQL).
const CHUNK: usize = IN_MEMORY;

/// Bytes of rows gathered before they are written to the temporary file.
const WRITE_BYTES: usize = if cfg!(test) { 64 } else { 1 << 20 };

/// The rejected rows of one file, in the order they were rejected.
#[derive(Default)]
pub struct Rejects {
    rows: Vec<RejectedRow>,
    /// The rows past [`IN_MEMORY`]; behind a lock only so that storing
    /// them can finish the file through `&self`.
    spill: Option<Mutex<Spill>>,
    spilled: u64,
    /// Per (file, reason): how many rows, the first line and its sentence.
    tally: BTreeMap<(&'static str, &'static str), ReasonCount>,
}

/// Rows past [`IN_MEMORY`]: those written to the temporary file, those
/// gathered to be written, and those kept in memory since the file failed.
struct Spill {
    /// `None` when no file could be made.
    file: Option<File>,
    /// Whether rows still go to `file` (not once it failed: they go to `kept`).
    writing: bool,
    /// The `&'static str`s of the rows written (files and reason codes):
    /// a row stores their indexes.
    names: Vec<&'static str>,
    /// Rows encoded, not yet written, and how many.
    gathered: Vec<u8>,
    gathered_rows: usize,
    /// Rows wholly written to `file` (a failed write may leave part of one
    /// after them, never read).
    written: u64,
    /// Rows after those in the file, in memory.
    kept: Vec<RejectedRow>,
}

fn lock(spill: &Mutex<Spill>) -> MutexGuard<'_, Spill> {
    spill.lock().unwrap_or_else(PoisonError::into_inner)
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
        let spill = self.spill.get_or_insert_with(|| Mutex::new(Spill::new()));
        spill.get_mut().unwrap_or_else(PoisonError::into_inner).push(row);
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

    /// Every row, a chunk at a time, to be stored: those in memory, those
    /// in the temporary file, then those kept since the file failed.
    pub fn chunks(&self) -> Result<Chunks<'_>, EtlError> {
        let mut chunks = Chunks {
            rejects: self,
            stage: Stage::Memory,
            input: None,
            names: Vec::new(),
            in_file: 0,
            kept_at: 0,
        };
        let Some(spill) = &self.spill else {
            return Ok(chunks);
        };
        let mut spill = lock(spill);
        spill.write_gathered();
        if let Some(file) = spill.file.as_ref().filter(|_| spill.written > 0) {
            // A handle that cannot be had is a file that cannot be read back.
            let mut input = BufReader::new(file.try_clone().map_err(spilled)?);
            input.seek(SeekFrom::Start(0)).map_err(spilled)?;
            chunks.input = Some(input);
        }
        chunks.in_file = spill.written;
        chunks.names = spill.names.clone();
        tracing::debug!(
            rows = self.len(),
            written = spill.written,
            "rejected rows read back from a temporary file"
        );
        Ok(chunks)
    }

    /// Every row, read back (tests).
    #[cfg(test)]
    pub fn all(&self) -> Vec<RejectedRow> {
        let mut out = Vec::new();
        let mut chunks = self.chunks().unwrap();
        while let Some(chunk) = chunks.next_chunk().unwrap() {
            out.extend(chunk.iter().cloned());
        }
        out
    }
}

/// Where [`Chunks`] is.
enum Stage {
    Memory,
    File,
    Kept,
}

/// The rows of a [`Rejects`], a chunk at a time ([`Rejects::chunks`]).
pub struct Chunks<'a> {
    rejects: &'a Rejects,
    stage: Stage,
    input: Option<BufReader<File>>,
    names: Vec<&'static str>,
    /// Rows left to read from the file.
    in_file: u64,
    /// Rows kept in memory since the file failed, handed out so far.
    kept_at: usize,
}

impl<'a> Chunks<'a> {
    /// The next rows (at most [`CHUNK`]), or `None` once all were given.
    /// Fails if a row written to the file cannot be read back.
    pub fn next_chunk(&mut self) -> Result<Option<Cow<'a, [RejectedRow]>>, EtlError> {
        loop {
            match self.stage {
                Stage::Memory => {
                    self.stage = Stage::File;
                    if !self.rejects.rows.is_empty() {
                        return Ok(Some(Cow::Borrowed(&self.rejects.rows)));
                    }
                }
                Stage::File if self.in_file > 0 => {
                    let input = self
                        .input
                        .as_mut()
                        .ok_or_else(|| spilled(std::io::Error::other("the temporary file is gone")))?;
                    let n = self.in_file.min(CHUNK as u64);
                    let mut chunk = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        chunk.push(read_row(input, &self.names).map_err(spilled)?);
                    }
                    self.in_file -= n;
                    return Ok(Some(Cow::Owned(chunk)));
                }
                Stage::File => self.stage = Stage::Kept,
                Stage::Kept => {
                    let Some(spill) = &self.rejects.spill else {
                        return Ok(None);
                    };
                    // Copied a chunk at a time: the lock is not held while they are stored.
                    let chunk: Vec<RejectedRow> = lock(spill)
                        .kept
                        .iter()
                        .skip(self.kept_at)
                        .take(CHUNK)
                        .cloned()
                        .collect();
                    if chunk.is_empty() {
                        return Ok(None);
                    }
                    self.kept_at += chunk.len();
                    return Ok(Some(Cow::Owned(chunk)));
                }
            }
        }
    }
}

fn spilled(e: std::io::Error) -> EtlError {
    EtlError::Internal(format!(
        "rejected rows kept in a temporary file cannot be read back: {e}"
    ))
}

impl Spill {
    fn new() -> Self {
        let file = match tempfile::tempfile() {
            Ok(file) => Some(file),
            Err(error) => {
                tracing::warn!(%error, "no temporary file for rejected rows (TMPDIR): they stay in memory");
                None
            }
        };
        Spill {
            writing: file.is_some(),
            file,
            names: Vec::new(),
            gathered: Vec::new(),
            gathered_rows: 0,
            written: 0,
            kept: Vec::new(),
        }
    }

    fn push(&mut self, row: RejectedRow) {
        if !self.writing {
            self.kept.push(row);
            return;
        }
        if let Err(error) = self.encode(&row) {
            // Not encodable (a text over 4 GiB, 65,536 names): kept as it
            // is, and the later rows too, so that they stay in order.
            tracing::warn!(%error, "a rejected row cannot be encoded: the later ones stay in memory");
            self.write_gathered();
            self.writing = false;
            self.kept.push(row);
            return;
        }
        self.gathered_rows += 1;
        if self.gathered.len() >= WRITE_BYTES {
            self.write_gathered();
        }
    }

    /// Writes the rows gathered; if the file fails, they and every later
    /// row stay in memory (decoded back from what was gathered).
    fn write_gathered(&mut self) {
        if self.gathered_rows == 0 {
            return;
        }
        let Some(file) = self.file.as_mut().filter(|_| self.writing) else {
            return;
        };
        let bytes = std::mem::take(&mut self.gathered);
        let rows = std::mem::take(&mut self.gathered_rows);
        match file.write_all(&bytes) {
            Ok(()) => self.written += rows as u64,
            Err(error) => {
                tracing::warn!(%error, "the temporary file of rejected rows cannot be written: they stay in memory");
                self.writing = false;
                let mut input = bytes.as_slice();
                for _ in 0..rows {
                    match read_row(&mut input, &self.names) {
                        Ok(row) => self.kept.push(row),
                        // Encoded a moment ago by `encode`: cannot happen.
                        Err(e) => tracing::error!(error = %e, "a rejected row gathered cannot be decoded"),
                    }
                }
            }
        }
    }

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

    /// Appends a row to `gathered` as: run id, line, file and reason code
    /// (indexes into `names`), then the reason and the raw line, each its
    /// length first. Nothing is appended if it fails.
    fn encode(&mut self, row: &RejectedRow) -> std::io::Result<()> {
        let file = self.name(row.file)?;
        let code = self.name(row.reason_code)?;
        let lengths = [&row.reason, &row.raw_line].map(|t| u32::try_from(t.len()).map_err(std::io::Error::other));
        let [reason, raw] = lengths;
        let (reason, raw) = (reason?, raw?);
        let out = &mut self.gathered;
        out.extend_from_slice(&row.run_id.to_le_bytes());
        out.extend_from_slice(&row.line_number.to_le_bytes());
        out.extend_from_slice(&file.to_le_bytes());
        out.extend_from_slice(&code.to_le_bytes());
        out.extend_from_slice(&reason.to_le_bytes());
        out.extend_from_slice(row.reason.as_bytes());
        out.extend_from_slice(&raw.to_le_bytes());
        out.extend_from_slice(row.raw_line.as_bytes());
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

    fn lines(rows: &[RejectedRow]) -> Vec<i64> {
        rows.iter().map(|r| r.line_number).collect()
    }

    /// No temporary file to be had (a missing `TMPDIR`): the rows past
    /// memory stay in memory, and every one comes back, in order.
    #[test]
    fn without_a_temporary_file_rows_stay_in_memory() {
        let mut rejects = Rejects::default();
        rejects.push(row(2, "invalid_date"));
        let mut spill = Spill::new();
        spill.file = None;
        spill.writing = false;
        rejects.spill = Some(Mutex::new(spill));
        for line in 3..12 {
            rejects.push(row(line, "invalid_date"));
        }
        assert_eq!(lines(&rejects.all()), (2..12).collect::<Vec<_>>());
        assert_eq!(rejects.len(), 10);
    }

    /// The file fails part-way (a full disk): what was written comes back
    /// from it, the rows gathered then and every later one from memory.
    #[test]
    fn a_file_that_fails_part_way_loses_no_row() {
        let mut rejects = Rejects::default();
        for line in 2..9 {
            rejects.push(row(line, "invalid_date"));
        }
        {
            let spill = rejects.spill.as_mut().unwrap().get_mut().unwrap();
            assert!(spill.written > 0, "some rows written before the failure");
            // A handle that cannot be written: the next write fails.
            let file = spill.file.as_ref().unwrap().try_clone().unwrap();
            let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
            spill.file = Some(File::open(path).unwrap());
        }
        for line in 9..20 {
            rejects.push(row(line, "invalid_date"));
        }
        let spill = rejects.spill.as_mut().unwrap().get_mut().unwrap();
        assert!(!spill.writing && !spill.kept.is_empty(), "the failure was met");
        let all = rejects.all();
        assert_eq!(lines(&all), (2..20).collect::<Vec<_>>());
        assert!(all.iter().all(|r| r.raw_line.ends_with('é')));
    }
}
