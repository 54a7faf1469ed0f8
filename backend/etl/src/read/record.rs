//! One line's fields, split and unquoted (see [`super::source`] for the rules).

use crate::rows::Reject;

/// The fields of one line, unquoted.
#[derive(Default)]
pub struct Record {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    pub(super) fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    fn end_field(&mut self) {
        self.ends.push(self.data.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.data[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Splits `line` into `record`'s fields, or says why it cannot.
pub(super) fn split(line: &[u8], delimiter: u8, record: &mut Record) -> Result<(), Reject> {
    record.clear();
    let mut i = 0;
    loop {
        // Leading spaces before an opening quote are allowed (`a, "b"`).
        let start = i + line[i..].iter().take_while(|&&b| b == b' ').count();
        if line.get(start) == Some(&b'"') {
            let mut j = start + 1;
            loop {
                match memchr::memchr(b'"', &line[j..]) {
                    None => {
                        return Err(Reject::new(
                            "unclosed_quote",
                            format!(
                                "field {} opens a quote that is not closed on its line \
                                 (a record is one line; a quote inside a field is written \"\")",
                                record.len() + 1
                            ),
                        ))
                    }
                    Some(k) => {
                        record.data.extend_from_slice(&line[j..j + k]);
                        j += k + 1;
                        if line.get(j) == Some(&b'"') {
                            record.data.push(b'"');
                            j += 1;
                            continue;
                        }
                        break;
                    }
                }
            }
            // After the closing quote: spaces, then the delimiter or the end.
            let rest = j + line[j..].iter().take_while(|&&b| b == b' ').count();
            record.end_field();
            match line.get(rest) {
                None => return Ok(()),
                Some(&b) if b == delimiter => i = rest + 1,
                Some(_) => {
                    return Err(Reject::new(
                        "malformed_quote",
                        format!(
                            "field {} has text after its closing quote (a quote inside a field is written \"\")",
                            record.len()
                        ),
                    ))
                }
            }
        } else {
            match memchr::memchr(delimiter, &line[i..]) {
                Some(k) => {
                    record.data.extend_from_slice(&line[i..i + k]);
                    record.end_field();
                    i += k + 1;
                }
                None => {
                    record.data.extend_from_slice(&line[i..]);
                    record.end_field();
                    return Ok(());
                }
            }
        }
    }
}
