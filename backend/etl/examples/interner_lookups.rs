//! How long an id lookup takes, one after another against in batches
//! (`Interner::intern_all`), among as many distinct ids as a load of a given
//! size has customers. The measurement behind `etl::interner`'s design:
//!
//! ```sh
//! cargo run --release -p etl --example interner_lookups -- 780000      # 5M transactions' customers
//! cargo run --release -p etl --example interner_lookups -- 7800000     # 50M
//! cargo run --release -p etl --example interner_lookups -- 7800000 varied
//! ```
//!
//! Ids of 16 bytes like the generator's (`cus_` and 12 hex digits), 5
//! million lookups in a random order; the loop one by one is made to wait
//! for each answer (as a load's row does, with its other work between two
//! lookups). Prints nanoseconds per lookup, three rounds. With `varied`, an
//! id of another length comes first, so that the table keeps its entries
//! with their indexes and ends instead of bare (the layout of ids of
//! several lengths).

use std::time::Instant;

use etl::interner::Interner;

const LOOKUPS: usize = 5_000_000;
const BATCH: usize = 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let distinct: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 780_000,
    };
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let ids: Vec<String> = (0..distinct)
        .map(|_| format!("cus_{:012x}", random() & 0xffff_ffff_ffff))
        .collect();
    let keys: Vec<&str> = (0..LOOKUPS)
        .map(|_| ids[(random() % distinct as u64) as usize].as_str())
        .collect();
    let mut table = Interner::default();
    if std::env::args().nth(2).as_deref() == Some("varied") {
        table.intern("x")?;
    }
    for id in &ids {
        table.intern(id)?;
    }
    for round in 1..=3 {
        let start = Instant::now();
        let mut last = 0u32;
        for (i, _) in keys.iter().enumerate() {
            // The next key depends on the last answer: no two lookups overlap.
            let key = keys[(i + (last & 1) as usize) % keys.len()];
            last = table.intern(key)?.0;
        }
        let one_by_one = start.elapsed();
        let start = Instant::now();
        let mut numbers = Vec::with_capacity(BATCH);
        for batch in keys.chunks(BATCH) {
            numbers.clear();
            table.intern_all(batch, &mut numbers)?;
            last ^= numbers[0];
        }
        let batched = start.elapsed();
        let per = |d: std::time::Duration| d.as_nanos() as f64 / LOOKUPS as f64;
        println!(
            "round {round}: {distinct} ids, one by one {:.0} ns, in batches of {BATCH} {:.0} ns a lookup ({last})",
            per(one_by_one),
            per(batched)
        );
    }
    Ok(())
}
