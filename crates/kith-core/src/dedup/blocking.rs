//! Blocking: which records are worth comparing at all.

use std::collections::HashMap;

/// Largest block compared: a key shared by more records than this (a very common name,
/// a role address) is skipped, so work stays near-linear in the number of records.
pub const MAX_BLOCK: usize = 200;

/// Most blocking keys one record yields.
pub const MAX_KEYS: usize = 8;

/// Longest blocking key, in characters; longer ones are cut (a cut key only makes a
/// block a little larger, never loses a pair).
pub(crate) const MAX_KEY_CHARS: usize = 64;

/// What a search did, for benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Distinct keys seen.
    pub keys: usize,
    /// Keys skipped because more than [`MAX_BLOCK`] records share them.
    pub skipped_keys: usize,
    /// Distinct pairs scored.
    pub compared: usize,
    /// Pairs at or above the threshold.
    pub found: usize,
}

/// Adds a key, cut to [`MAX_KEY_CHARS`], unless it is already there or the record has
/// [`MAX_KEYS`] already.
pub(crate) fn push_key(keys: &mut Vec<String>, prefix: &str, value: &str) {
    if value.is_empty() || keys.len() >= MAX_KEYS {
        return;
    }
    let key: String = format!("{prefix}{value}")
        .chars()
        .take(MAX_KEY_CHARS)
        .collect();
    if !keys.contains(&key) {
        keys.push(key);
    }
}

/// Every pair of records (by index, smaller first) sharing a key of a block no larger
/// than [`MAX_BLOCK`], each once, in a stable order.
pub(crate) fn candidate_pairs(keys: &[Vec<String>]) -> (Vec<(usize, usize)>, Stats) {
    let mut blocks: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for k in ks {
            blocks.entry(k.as_str()).or_default().push(i);
        }
    }
    let mut stats = Stats {
        keys: blocks.len(),
        ..Stats::default()
    };
    let mut pairs = Vec::new();
    for members in blocks.values() {
        if members.len() > MAX_BLOCK {
            stats.skipped_keys += 1;
            continue;
        }
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                // A record listing the same key twice would pair with itself.
                if i != j {
                    pairs.push((i.min(j), i.max(j)));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    stats.compared = pairs.len();
    (pairs, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_sharing_several_keys_are_compared_once() {
        let keys = vec![
            vec!["e:a".to_string(), "p:1".to_string()],
            vec!["e:a".to_string(), "p:1".to_string()],
            vec!["e:b".to_string()],
        ];
        let (pairs, stats) = candidate_pairs(&keys);
        assert_eq!(pairs, vec![(0, 1)]);
        assert_eq!(stats.compared, 1);
    }

    #[test]
    fn a_very_common_key_does_not_explode_into_quadratic_work() {
        let keys: Vec<Vec<String>> = (0..MAX_BLOCK + 1)
            .map(|_| vec!["n:wang wei".into()])
            .collect();
        let (pairs, stats) = candidate_pairs(&keys);
        assert!(pairs.is_empty());
        assert_eq!(stats.skipped_keys, 1);
    }

    #[test]
    fn records_get_few_short_keys() {
        let mut keys = Vec::new();
        for i in 0..20 {
            push_key(&mut keys, "e:", &format!("{i}{}", "x".repeat(100)));
        }
        assert_eq!(keys.len(), MAX_KEYS);
        assert!(keys.iter().all(|k| k.chars().count() <= MAX_KEY_CHARS));
    }
}
