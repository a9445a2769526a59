//! Duplicate detection on the seeded synthetic set (kith_core::dedup::synthetic): time,
//! pairs compared, precision and recall against the set's labels.
//!
//! `cargo bench -p kith-core --bench dedup` (also run by scripts/bench);
//! `KITH_BENCH_DEDUP=100000,1000000` sets the sizes.

use std::time::Instant;

use kith_core::dedup::{evaluate, find_people_with_stats, synthetic, DEFAULT_THRESHOLD};

fn main() {
    let sizes = std::env::var("KITH_BENCH_DEDUP").unwrap_or("100000,1000000".into());
    println!("| people | true pairs | generate | find (blocking + scoring) | pairs compared | keys skipped | found | precision | recall |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let t = Instant::now();
        let (people, truth) = synthetic::generate(2024, n, 0.1);
        let generated = t.elapsed();
        let t = Instant::now();
        let (pairs, stats) = find_people_with_stats(&people, DEFAULT_THRESHOLD);
        let found = t.elapsed();
        let (precision, recall) = evaluate(&pairs, &truth);
        println!(
            "| {n} | {} | {:.1} s | {:.1} s | {} | {} | {} | {precision:.3} | {recall:.3} |",
            truth.len(),
            generated.as_secs_f64(),
            found.as_secs_f64(),
            stats.compared,
            stats.skipped_keys,
            pairs.len()
        );
    }
}
