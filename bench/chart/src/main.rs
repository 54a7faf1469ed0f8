//! `cargo run -p bench-chart -- bench/out/curve.tsv,bench/out/partitions.tsv docs/cost-curve.png`:
//! the cost curve measured by `bench/curve.sh` (and `bench/partitions.sh`:
//! the month-partitioned fact table against the single one), drawn with
//! plotters — the medians of each measurement against the number of
//! transactions. Inputs are comma-separated.
//!
//! Four panels: load time (PostgreSQL, SQLite, PostgreSQL's COPY limit),
//! the ratio of the PostgreSQL load to that limit, appending 10,000
//! transactions, and the report p99 at 32 connections with the cache's
//! refresh after an ingest.

use std::collections::BTreeMap;
use std::error::Error;

use plotters::prelude::*;

/// A line of a panel: its label, colour and points.
type Line<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

/// (kind, name) → size → the values of every run.
type Samples = BTreeMap<(String, String), BTreeMap<u64, Vec<f64>>>;

fn read(path: &str) -> Result<Samples, Box<dyn Error>> {
    let mut out = Samples::new();
    for line in std::fs::read_to_string(path)?.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [kind, name, size, _run, value, _unit] = f[..] else {
            return Err(format!("not a results line: {line:?}").into());
        };
        let (Ok(size), Ok(value)) = (size.parse::<u64>(), value.parse::<f64>()) else {
            continue;
        };
        out.entry((kind.to_owned(), name.to_owned()))
            .or_default()
            .entry(size)
            .or_default()
            .push(value);
    }
    Ok(out)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The medians of (kind, name) by size, in millions of transactions.
fn series(samples: &Samples, kind: &str, name: &str) -> Vec<(f64, f64)> {
    samples
        .get(&(kind.to_owned(), name.to_owned()))
        .map(|by_size| {
            by_size
                .iter()
                .map(|(size, values)| (*size as f64 / 1e6, median(values)))
                .collect()
        })
        .unwrap_or_default()
}

/// One panel: `lines` of (label, colour, points) on linear axes from 0.
fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    lines: &[Line<'_>],
) -> Result<(), Box<dyn Error>> {
    let x_max = lines
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|(x, _)| *x))
        .fold(1.0, f64::max);
    let y_max = lines
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|(_, y)| *y))
        .filter(|y| y.is_finite())
        .fold(0.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max * 1.05, 0.0..y_max.max(1e-9))?;
    chart
        .configure_mesh()
        .x_desc("million transactions")
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .draw()?;
    for (label, colour, points) in lines.iter().filter(|(_, _, p)| !p.is_empty()) {
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let inputs = args.get(1).map_or("bench/out/curve.tsv", String::as_str);
    let output = args.get(2).map_or("docs/cost-curve.png", String::as_str);
    let font = args
        .get(3)
        .map_or("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", String::as_str);
    // plotters keeps the font for the life of the process.
    let bytes: &'static [u8] = Box::leak(
        std::fs::read(font)
            .map_err(|e| format!("cannot read the font {font}: {e}"))?
            .into_boxed_slice(),
    );
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| format!("{font} is not a font"))?;

    let mut s = Samples::new();
    for input in inputs.split(',') {
        for (key, by_size) in read(input)? {
            let entry = s.entry(key).or_default();
            for (size, values) in by_size {
                entry.entry(size).or_default().extend(values);
            }
        }
    }
    let pg = series(&s, "etl", "postgres");
    let copy = series(&s, "copy", "postgres");
    let ratio: Vec<(f64, f64)> = pg
        .iter()
        .filter_map(|(x, t)| copy.iter().find(|(cx, _)| cx == x).map(|(_, c)| (*x, t / c)))
        .collect();
    let blue = RGBColor(37, 99, 235);
    let orange = RGBColor(234, 88, 12);
    let grey = RGBColor(100, 116, 139);
    let green = RGBColor(22, 163, 74);

    let root = BitMapBackend::new(output, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((2, 2));
    panel(
        &panels[0],
        "Load (replace), wall time",
        "seconds",
        &[
            ("PostgreSQL", blue, pg.clone()),
            ("SQLite", orange, series(&s, "etl", "sqlite")),
            ("PostgreSQL COPY limit", grey, copy.clone()),
        ],
    )?;
    panel(
        &panels[1],
        "PostgreSQL load / COPY limit",
        "ratio",
        &[("load / COPY", blue, ratio)],
    )?;
    panel(
        &panels[2],
        "Append 10,000 transactions",
        "seconds",
        &[
            ("PostgreSQL, every month", blue, series(&s, "append", "postgres")),
            ("SQLite, every month", orange, series(&s, "append", "sqlite")),
            (
                "PostgreSQL, a new month, one fact table",
                grey,
                series(&s, "append_new_month", "single"),
            ),
            (
                "PostgreSQL, a new month, month partitions",
                green,
                series(&s, "append_new_month", "partitioned"),
            ),
        ],
    )?;
    panel(
        &panels[3],
        "Reports (PostgreSQL)",
        "milliseconds",
        &[
            (
                "top-users p99, 32 conns",
                blue,
                series(&s, "api_p99", "/reports/top-users c=32"),
            ),
            (
                "monthly p99, 32 conns",
                green,
                series(&s, "api_p99", "/reports/monthly-transactions c=32"),
            ),
            (
                "cache refresh after an ingest",
                grey,
                series(&s, "cache_refresh", "postgres"),
            ),
        ],
    )?;
    root.present()?;
    println!("wrote {output}");
    Ok(())
}
