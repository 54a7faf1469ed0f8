//! The reader's tests: line accounting, splitting, limits, reading again by position.

use super::*;

fn fields(line: &str, delimiter: u8) -> Result<Vec<String>, String> {
    let mut r = Record::default();
    split(line.as_bytes(), delimiter, &mut r).map_err(|e| e.code.to_owned())?;
    Ok(r.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect())
}

#[test]
fn splits_plain_and_quoted_fields() {
    assert_eq!(fields("a\tb\t\tc", b'\t').unwrap(), ["a", "b", "", "c"]);
    assert_eq!(
        fields("a,\"b, c\",\"say \"\"hi\"\"\"", b',').unwrap(),
        ["a", "b, c", "say \"hi\""]
    );
    assert_eq!(fields("x, \"y\" ,z", b',').unwrap(), ["x", "y", "z"]);
    assert_eq!(fields("", b',').unwrap(), [""]);
    assert_eq!(fields("a,", b',').unwrap(), ["a", ""]);
    // A quote inside a field (not at its start) is literal.
    assert_eq!(fields("5\" disk\tx", b'\t').unwrap(), ["5\" disk", "x"]);
    assert_eq!(fields("\"Nano\tnano@x.test", b'\t').unwrap_err(), "unclosed_quote");
    assert_eq!(fields("\"a\"b,c", b',').unwrap_err(), "malformed_quote");
}

fn lines_of(bytes: &[u8], limits: Limits) -> Vec<(u64, Result<String, String>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.csv");
    std::fs::write(&path, bytes).unwrap();
    let cols = [Column {
        name: "A",
        aliases: &["a"],
    }];
    let mut source = Source::open(&path, &cols, None, limits).unwrap();
    let mut out = Vec::new();
    for_each_row(&mut source, |row| {
        out.push((
            row.line,
            row.field(0, "A").map(str::to_owned).map_err(|e| e.code.to_owned()),
        ));
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn every_line_ending_gives_the_same_lines() {
    let want = vec![
        (2, Ok("x".to_owned())),
        (3, Ok("y".to_owned())),
        (5, Ok("z".to_owned())),
    ];
    for text in [
        "A\nx\ny\n\nz\n",
        "A\r\nx\r\ny\r\n\r\nz",
        "A\rx\ry\r\rz\r",
        "\u{feff}A\nx\ny\n \nz",
    ] {
        assert_eq!(lines_of(text.as_bytes(), Limits::default()), want, "{text:?}");
    }
}

#[test]
fn a_bad_quote_costs_one_line_and_long_lines_are_skipped() {
    let limits = Limits {
        max_header_bytes: 100,
        max_line_bytes: 10,
    };
    let got = lines_of(b"A\n\"open\nnext\n0123456789abcdef\nlast", limits);
    assert_eq!(
        got,
        vec![
            (2, Err("unclosed_quote".to_owned())),
            (3, Ok("next".to_owned())),
            (4, Err("line_too_long".to_owned())),
            (5, Ok("last".to_owned())),
        ]
    );
}

/// A line of exactly the limit is read whatever ends it (a CR before
/// the LF once counted and rejected it); one byte more is too long.
#[test]
fn the_line_limit_is_of_the_line_not_its_ending() {
    let limits = Limits {
        max_header_bytes: 100,
        max_line_bytes: 10,
    };
    for eol in ["\n", "\r\n", "\r"] {
        let text = format!("A{eol}0123456789{eol}0123456789a{eol}x{eol}");
        assert_eq!(
            lines_of(text.as_bytes(), limits),
            vec![
                (2, Ok("0123456789".to_owned())),
                (3, Err("line_too_long".to_owned())),
                (4, Ok("x".to_owned())),
            ],
            "{eol:?}"
        );
    }
}

#[test]
fn headers_that_are_not_exports_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let cols = [Column {
        name: "A",
        aliases: &["a"],
    }];
    let limits = Limits {
        max_header_bytes: 1000,
        max_line_bytes: 1000,
    };
    let long = dir.path().join("long.csv");
    std::fs::write(&long, "x".repeat(5000)).unwrap();
    let err = Source::open(&long, &cols, None, limits).err().unwrap().to_string();
    assert!(err.contains("longer than 1000 bytes") && err.len() < 400, "{err}");
    let utf16 = dir.path().join("utf16.csv");
    std::fs::write(&utf16, b"\xFF\xFEA\0\n\0").unwrap();
    let err = Source::open(&utf16, &cols, None, limits).err().unwrap().to_string();
    assert!(err.contains("UTF-16"), "{err}");
    let err = Source::open(dir.path(), &cols, None, limits).err().unwrap().to_string();
    assert!(err.contains("a directory"), "{err}");
}

#[test]
fn excerpts_are_cut_on_characters() {
    assert_eq!(excerpt("héllo", 2), "hé…");
    assert_eq!(excerpt("hi", 5), "hi");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any line splits into fields or is rejected with a reason, never a
        /// panic; a line without quotes splits into exactly its delimited parts.
        #[test]
        fn any_line_splits_or_is_rejected(line in prop::collection::vec(any::<u8>(), 0..200), plain in "[a-z0-9 .,;-]{0,60}") {
            let mut record = Record::default();
            if split(&line, b'\t', &mut record).is_ok() {
                prop_assert!(record.len() >= 1);
            }
            let line = plain.replace(',', "\t");
            split(line.as_bytes(), b'\t', &mut record).unwrap();
            let fields: Vec<&[u8]> = record.iter().collect();
            let parts: Vec<&[u8]> = line.as_bytes().split(|&b| b == b'\t').collect();
            prop_assert_eq!(fields, parts);
        }

        /// Every data line of any file is passed on exactly once, with its
        /// line number: the line accounting does not depend on the content.
        #[test]
        fn every_line_is_passed_on(lines in prop::collection::vec("[a-z\"\t,]{0,12}", 0..30), eol in prop::sample::select(vec!["\n", "\r\n", "\r"])) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.csv");
            let mut text = String::from("A\tB");
            for l in &lines {
                text.push_str(eol);
                text.push_str(l);
            }
            std::fs::write(&path, &text).unwrap();
            let cols = [Column { name: "A", aliases: &["a"] }];
            let mut source = Source::open(&path, &cols, None, Limits::default()).unwrap();
            let mut seen = Vec::new();
            let mut at = Vec::new();
            let read = for_each_row(&mut source, |row| {
                seen.push(row.line);
                at.push((row.line, row.offset, row.raw_line()));
                Ok(())
            })
            .unwrap();
            // Any rows read again by position, in order, are the same lines.
            let some: Vec<_> = at.iter().enumerate().filter(|(i, _)| (i * 7 + lines.len()) % 3 != 0).map(|(_, a)| a).collect();
            let mut again = source.reopen(&cols).unwrap();
            let mut reread = Vec::new();
            for_rows_at(&mut again, some.iter().map(|a| (a.0, a.1)), "f.csv", |row| {
                reread.push((row.line, row.offset, row.raw_line()));
                Ok(())
            })
            .unwrap();
            let want: Vec<_> = some.into_iter().cloned().collect();
            prop_assert_eq!(reread, want);
            let data: Vec<u64> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, _)| i as u64 + 2)
                .collect();
            prop_assert_eq!(read, data.len() as u64);
            prop_assert_eq!(seen, data);
            // A last empty line is the file's final line break, not a line.
            let trailing = u64::from(lines.last().is_some_and(|l| l.is_empty()));
            prop_assert_eq!(source.blank_lines, lines.len() as u64 - read - trailing);
        }
    }
}
