//! How good the found pairs are against known truth, and the evaluation on synthetic data
//! that chose the weights and [`super::DEFAULT_THRESHOLD`].

use std::collections::HashSet;

use uuid::Uuid;

use super::Pair;

/// Precision (share of found pairs that are true) and recall (share of true pairs found).
/// Pair order does not matter; an empty side counts as perfect (nothing wrong claimed,
/// nothing to find).
pub fn evaluate(found: &[Pair], truth: &[(Uuid, Uuid)]) -> (f64, f64) {
    let order = |a: Uuid, b: Uuid| (a.min(b), a.max(b));
    let truth: HashSet<(Uuid, Uuid)> = truth.iter().map(|&(a, b)| order(a, b)).collect();
    let found: HashSet<(Uuid, Uuid)> = found.iter().map(|p| order(p.a, p.b)).collect();
    let hits = found.intersection(&truth).count() as f64;
    let precision = if found.is_empty() {
        1.0
    } else {
        hits / found.len() as f64
    };
    let recall = if truth.is_empty() {
        1.0
    } else {
        hits / truth.len() as f64
    };
    (precision, recall)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::dedup::{find_people_with_stats, synthetic, Person, DEFAULT_THRESHOLD};

    fn pair(a: u64, b: u64) -> Pair {
        let id = |n| Uuid::from_u64_pair(0, n);
        Pair {
            a: id(a),
            b: id(b),
            score: 1.0,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn precision_and_recall_count_pairs_in_either_order() {
        let id = |n| Uuid::from_u64_pair(0, n);
        let truth = [(id(2), id(1)), (id(3), id(4))];
        assert_eq!(evaluate(&[pair(1, 2), pair(5, 6)], &truth), (0.5, 0.5));
        assert_eq!(evaluate(&[], &truth), (1.0, 0.0));
        assert_eq!(evaluate(&[], &[]), (1.0, 1.0));
    }

    /// Prints what went wrong, so weights can be tuned on evidence rather than guesses.
    fn show_mistakes(people: &[Person], found: &[Pair], truth: &[(Uuid, Uuid)], n: usize) {
        let by_id = |id: Uuid| people.iter().find(|p| p.id == id);
        let found_set: HashSet<(Uuid, Uuid)> = found.iter().map(|p| (p.a, p.b)).collect();
        let truth_set: HashSet<(Uuid, Uuid)> = truth.iter().copied().collect();
        for p in found
            .iter()
            .filter(|p| !truth_set.contains(&(p.a, p.b)))
            .take(n)
        {
            println!(
                "FALSE {:.2} {:?}\n  {:?}\n  {:?}",
                p.score,
                p.reasons,
                by_id(p.a),
                by_id(p.b)
            );
        }
        for (a, b) in truth.iter().filter(|t| !found_set.contains(t)).take(n) {
            if let (Some(x), Some(y)) = (by_id(*a), by_id(*b)) {
                let s = crate::dedup::compare_people(x, y);
                println!("MISSED {:.2} {:?}\n  {x:?}\n  {y:?}", s.score, s.reasons);
            }
        }
    }

    fn run(seed: u64, n: usize) -> (f64, f64) {
        let (people, truth) = synthetic::generate(seed, n, 0.1);
        let start = Instant::now();
        let (found, stats) = find_people_with_stats(&people, DEFAULT_THRESHOLD);
        let elapsed = start.elapsed();
        let (precision, recall) = evaluate(&found, &truth);
        println!(
            "{n} people, {} true pairs: {:?} in {elapsed:.2?}; precision {precision:.4}, recall {recall:.4}",
            truth.len(),
            stats
        );
        // Looser thresholds around the default, to show the trade-off it sits on.
        let (all, _) = find_people_with_stats(&people, 0.05);
        for t in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95] {
            let kept: Vec<Pair> = all.iter().filter(|p| p.score >= t).cloned().collect();
            let (p, r) = evaluate(&kept, &truth);
            println!("  threshold {t:.2}: precision {p:.4}, recall {r:.4}");
        }
        if std::env::var_os("KITH_DEDUP_SHOW").is_some() {
            show_mistakes(&people, &found, &truth, 15);
        }
        (precision, recall)
    }

    #[test]
    fn five_thousand_synthetic_people_are_deduplicated_accurately() {
        let (precision, recall) = run(42, 5_000);
        assert!(precision >= 0.95, "precision {precision}");
        assert!(recall >= 0.90, "recall {recall}");
    }

    #[test]
    fn other_seeds_hold_up_too() {
        for seed in [1, 2, 3] {
            let (precision, recall) = run(seed, 3_000);
            assert!(
                precision >= 0.95 && recall >= 0.90,
                "seed {seed}: {precision} {recall}"
            );
        }
    }
}
