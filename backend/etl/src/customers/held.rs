//! The profiles from users.csv's read until the customers are reconciled.
//!
//! They are the largest thing the load holds at its peak (the end of pass 2:
//! 404 MB of 1,376 at 50M transactions, 7.8 million customers), and nothing
//! reads them between the two: so once users.csv is read, and the run knows
//! it loads them (the file was not ingested before), they are written out,
//! in customer order, to an anonymous temporary file (in `TMPDIR`,
//! deleted when closed, whatever happens), and the reconcile phase reads
//! them back in that order, a block at a time. Where no temporary file can
//! be made or written (a missing `TMPDIR`, a full disk) they stay in
//! memory, with a warning: the run does not fail for want of a scratch
//! file (as the rejected rows, [`crate::rejects`]).

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use super::{try_decode, Profile, Profiles};
use crate::error::EtlError;

/// Bytes read from the file at a time (grown for a record longer than this).
const BLOCK: usize = if cfg!(test) { 16 } else { 1 << 20 };

/// Customers' profiles, numbered densely from 0, read back in that order.
pub enum Held {
    Memory(Profiles),
    /// `customers` records, in customer order.
    File {
        file: File,
        customers: usize,
    },
}

impl Default for Held {
    fn default() -> Self {
        Self::Memory(Profiles::default())
    }
}

impl Held {
    /// `profiles` written out to a temporary file, or kept in memory when
    /// that fails.
    pub fn spill(mut profiles: Profiles) -> Self {
        match write_in_order(&profiles) {
            Ok(file) => Self::File {
                file,
                customers: profiles.len(),
            },
            Err(error) => {
                tracing::warn!(%error, "no temporary file for the customers' names and e-mails (TMPDIR): they stay in memory");
                // Every customer is in: the room kept for growth is given back.
                profiles.shrink_to_fit();
                Self::Memory(profiles)
            }
        }
    }

    /// These profiles written out ([`Held::spill`]) if they are in memory
    /// (none: nothing to write).
    pub fn written_out(self) -> Self {
        match self {
            Self::Memory(profiles) if !profiles.is_empty() => Self::spill(profiles),
            held => held,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Memory(p) => p.len(),
            Self::File { customers, .. } => *customers,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held on the heap, for the memory log.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Self::Memory(p) => p.heap_bytes(),
            Self::File { .. } => 0,
        }
    }

    /// The profiles from customer 0 on.
    pub fn in_order(&self) -> Result<InOrder<'_>, EtlError> {
        let source = match self {
            Self::Memory(profiles) => Source::Memory(profiles),
            Self::File { file, .. } => {
                let mut file = file;
                file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
                Source::File {
                    file,
                    block: vec![0; BLOCK],
                    at: 0,
                    end: 0,
                }
            }
        };
        Ok(InOrder {
            source,
            next: 0,
            customers: self.len(),
        })
    }
}

/// Every record of `profiles`, customer 0 first, in a new temporary file.
fn write_in_order(profiles: &Profiles) -> std::io::Result<File> {
    let file = tempfile::tempfile()?;
    let mut out = BufWriter::with_capacity(BLOCK, &file);
    for i in 0..profiles.len() as u32 {
        out.write_all(profiles.record(i))?;
    }
    out.flush()?;
    drop(out);
    Ok(file)
}

fn unreadable(e: std::io::Error) -> EtlError {
    EtlError::Internal(format!(
        "the customers' names and e-mails kept in a temporary file cannot be read back: {e}"
    ))
}

/// The profiles of [`Held`], one after another.
pub struct InOrder<'a> {
    source: Source<'a>,
    next: u32,
    customers: usize,
}

enum Source<'a> {
    Memory(&'a Profiles),
    /// The file, and its bytes from `at` to `end` in `block` not yet decoded.
    File {
        file: &'a File,
        block: Vec<u8>,
        at: usize,
        end: usize,
    },
}

impl InOrder<'_> {
    /// The next customer's profile; `None` after the last.
    pub fn next_profile(&mut self) -> Result<Option<Profile<'_>>, EtlError> {
        if self.next as usize >= self.customers {
            return Ok(None);
        }
        let i = self.next;
        self.next += 1;
        let (file, block, at, end) = match &mut self.source {
            Source::Memory(profiles) => return Ok(Some(profiles.get(i))),
            Source::File { file, block, at, end } => (file, block, at, end),
        };
        // Until the block holds the whole record: the rest moved to its
        // start, more read after it (the block grown when it is full).
        while try_decode(&block[*at..*end]).is_none() {
            block.copy_within(*at..*end, 0);
            (*end, *at) = (*end - *at, 0);
            if *end == block.len() {
                block.resize(block.len() * 2, 0);
            }
            match file.read(&mut block[*end..]) {
                Ok(0) => return Err(unreadable(std::io::ErrorKind::UnexpectedEof.into())),
                Ok(n) => *end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(unreadable(e)),
            }
        }
        let Some((raw, len)) = try_decode(&block[*at..*end]) else {
            unreachable!("decoded in the loop above")
        };
        *at += len;
        let text = |b| std::str::from_utf8(b).map_err(|e| unreadable(std::io::Error::other(e)));
        Ok(Some(Profile {
            name: text(raw.name)?,
            email: text(raw.email)?,
            conflicting_name: raw.conflicting_name,
            conflicting_email: raw.conflicting_email,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::Change;

    fn profiles(texts: &[(&str, &str)]) -> Profiles {
        let mut p = Profiles::default();
        for (i, &(name, email)) in texts.iter().enumerate() {
            let change = Change {
                name: Some(name),
                email: Some(email),
                conflicting_name: i % 2 == 0,
                conflicting_email: i % 3 == 0,
            };
            p.set(i as u32, change).unwrap();
        }
        p
    }

    fn read_all(held: &Held) -> Result<Vec<(String, String, bool, bool)>, EtlError> {
        let mut out = Vec::new();
        let mut in_order = held.in_order()?;
        while let Some(p) = in_order.next_profile()? {
            out.push((
                p.name.to_owned(),
                p.email.to_owned(),
                p.conflicting_name,
                p.conflicting_email,
            ));
        }
        Ok(out)
    }

    /// Read back from the file, a block at a time (16 bytes under test,
    /// records up to 20 times longer), as from memory: every profile in
    /// customer order, records rewritten in place or moved included.
    #[test]
    fn profiles_read_back_from_the_file_as_from_memory() {
        let long = "é".repeat(150);
        let texts = [
            ("Ann", "ann@x.test"),
            ("", ""),
            ("Zoë", long.as_str()),
            ("B", ""),
            ("", "c@x.test"),
        ];
        let mut p = profiles(&texts);
        // Customer 0 moved to the end, customer 2 rewritten in place.
        let moved = Change {
            name: Some("Annabelle Longer"),
            ..Change::default()
        };
        p.set(0, moved).unwrap();
        let shorter = Change {
            email: Some("z@x.test"),
            ..Change::default()
        };
        p.set(2, shorter).unwrap();
        let in_memory = read_all(&Held::Memory(profiles(&[]))).unwrap();
        assert!(in_memory.is_empty());
        let want: Vec<_> = (0..p.len() as u32)
            .map(|i| {
                let g = p.get(i);
                (
                    g.name.to_owned(),
                    g.email.to_owned(),
                    g.conflicting_name,
                    g.conflicting_email,
                )
            })
            .collect();
        assert_eq!(want[0].0, "Annabelle Longer");
        assert_eq!(want[2].1, "z@x.test");
        assert_eq!(read_all(&Held::Memory(profiles(&texts))).unwrap().len(), texts.len());
        let held = Held::spill(p);
        assert!(matches!(held, Held::File { .. }));
        assert_eq!((held.len(), held.heap_bytes()), (texts.len(), 0));
        assert_eq!(read_all(&held).unwrap(), want);
        assert_eq!(read_all(&held).unwrap(), want, "read twice: from the start again");
        let none = Held::spill(Profiles::default());
        assert_eq!(read_all(&none).unwrap(), Vec::new());
        // Written out only when there is something to write.
        assert!(matches!(Held::default().written_out(), Held::Memory(_)));
        assert!(matches!(
            Held::Memory(profiles(&texts)).written_out(),
            Held::File { .. }
        ));
    }

    /// A file cut short is an error, never a customer without a profile.
    #[test]
    fn a_file_cut_short_is_an_error() {
        let held = Held::spill(profiles(&[("Ann", "ann@x.test"), ("Bob", "bob@x.test")]));
        let Held::File { file, .. } = &held else {
            panic!("not written out")
        };
        file.set_len(20).unwrap();
        let err = read_all(&held).unwrap_err().to_string();
        assert!(err.contains("cannot be read back"), "{err}");
    }
}
