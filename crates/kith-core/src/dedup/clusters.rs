//! Groups of records that pairs join together, to merge a whole group at once.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::Pair;

/// Connected components of the pairs (union-find): each group sorted, groups ordered by
/// their smallest id; records without a pair are not listed.
pub fn clusters(pairs: &[Pair]) -> Vec<Vec<Uuid>> {
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    let mut ids: Vec<Uuid> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut slot = |id: Uuid, ids: &mut Vec<Uuid>, parent: &mut Vec<usize>| {
        *index.entry(id).or_insert_with(|| {
            ids.push(id);
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    for p in pairs {
        let a = slot(p.a, &mut ids, &mut parent);
        let b = slot(p.b, &mut ids, &mut parent);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            // Attach the later root to the earlier: keeps trees shallow enough here
            // and the result independent of pair order.
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            parent[hi] = lo;
        }
    }
    let mut groups: BTreeMap<usize, Vec<Uuid>> = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(*id);
    }
    let mut out: Vec<Vec<Uuid>> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    out.sort();
    out
}

/// The root of `i`'s tree, halving the path on the way.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u64, b: u64) -> Pair {
        Pair {
            a: Uuid::from_u64_pair(0, a),
            b: Uuid::from_u64_pair(0, b),
            score: 1.0,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn chained_duplicates_merge_as_one_group() {
        let groups = clusters(&[pair(1, 2), pair(3, 4), pair(2, 5), pair(5, 1)]);
        let id = |n| Uuid::from_u64_pair(0, n);
        assert_eq!(groups, vec![vec![id(1), id(2), id(5)], vec![id(3), id(4)]]);
        assert!(clusters(&[]).is_empty());
    }
}
