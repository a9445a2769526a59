//! Duplicate detection: which people (or organisations) are probably the same, how
//! sure we are, and why — pure functions; storing candidates and merging live above.
//!
//! # How it works
//! 1. **Blocking.** Each record yields a few short keys ([`person_keys`],
//!    [`organisation_keys`]): its emails, phone tails, name, birthday, address. Two
//!    records are compared only if they share a key. A key shared by more than
//!    [`MAX_BLOCK`] records (`n:wang wei`, a busy company's `info@` address) is skipped:
//!    it would cost quadratic work and alone proves nothing; such records still meet
//!    through their other keys. A store that joins persisted keys in the database must
//!    apply the same cap.
//! 2. **Scoring.** Each comparison adds up evidence in the Fellegi–Sunter way: every
//!    field that agrees adds `log2(m/u)` bits (how much likelier that agreement is
//!    between duplicates than between strangers), every field that disagrees adds a
//!    negative weight, and a field missing on either side adds nothing. The sum plus
//!    a prior ([`weights::PRIOR`]) is squashed to `0..=1` with `1 / (1 + 2^-bits)`, so
//!    0.5 means "even odds". The weights are rounded estimates, tuned on the synthetic
//!    data in [`synthetic`] (see the evaluation tests) and listed in [`weights`].
//! 3. **Clusters.** [`clusters`] joins pairs into groups that can be merged at once.

mod blocking;
mod clusters;
mod contact_points;
mod evaluation;
mod names;
mod organisations;
mod people;
pub mod synthetic;

use serde::Serialize;
use uuid::Uuid;

pub use blocking::{Stats, MAX_BLOCK, MAX_KEYS};
pub use clusters::clusters;
pub use evaluation::evaluate;
pub use names::skeleton;
pub use organisations::{
    company_name, compare_organisations, find_organisations, organisation_keys, Organisation,
};
pub use people::{compare_people, find_people, find_people_with_stats, person_keys, Person};

/// The score from which a pair is shown as a likely duplicate; chosen from the
/// evaluation on synthetic data (precision ≥ 0.95 and recall ≥ 0.90 there).
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// Evidence weights in bits (`log2` of the likelihood ratio), summed per pair.
pub mod weights {
    /// Starting odds of a compared pair being a duplicate (1 : 64): two records that
    /// merely share a blocking key are usually different people.
    pub const PRIOR: f32 = -6.0;
    /// A personal email in common: almost never shared by two people.
    pub const SAME_EMAIL: f32 = 10.0;
    /// A role address (`info@`, `kontakt@`) in common: shared by colleagues.
    pub const SAME_SHARED_EMAIL: f32 = 3.0;
    /// Both have emails, none in common: people have several, so only mild.
    pub const DIFFERENT_EMAILS: f32 = -2.0;
    /// The same E.164 number.
    pub const SAME_PHONE: f32 = 9.0;
    /// The same last 8 digits (a number stored with and without its country code).
    pub const SAME_PHONE_TAIL: f32 = 7.0;
    /// Both have phones, none in common.
    pub const DIFFERENT_PHONES: f32 = -1.5;
    /// The same name (case, spaces, accents, æ/ae/a, swapped first/last folded away).
    /// Not enough alone: common names are shared by many people.
    pub const SAME_NAME: f32 = 4.0;
    /// A nickname or a one-letter typo away.
    pub const SIMILAR_NAME: f32 = 3.0;
    /// One name has an extra word or an initial for a word.
    pub const PARTIAL_NAME: f32 = 2.0;
    /// Every word paired, some only one letter apart in a short word (Lars/Lasr, but
    /// also Mary/Mark): against, since couples share phones and addresses.
    pub const NEAR_MISS_NAME: f32 = -6.0;
    /// A Chinese name and its pinyin: homophones (张伟/章伟) make this weaker.
    pub const PINYIN_NAME: f32 = 2.0;
    /// A name word on each side without a counterpart (Søren vs Mette Jensen): strong,
    /// because families share addresses, landlines and sometimes emails.
    pub const DIFFERENT_NAMES: f32 = -10.0;
    /// A Chinese name and a Latin name that is not its pinyin (an English name, or
    /// another romanisation): weaker than a plain conflict.
    pub const DIFFERENT_SCRIPT_NAMES: f32 = -4.0;
    /// The same date of birth.
    pub const SAME_BIRTHDAY: f32 = 6.0;
    /// Different dates of birth: two people, unless one was mistyped.
    pub const DIFFERENT_BIRTHDAYS: f32 = -8.0;
    /// Same day and month, different year: likely a typo in the year.
    pub const BIRTHDAY_YEAR_DIFFERS: f32 = -2.0;
    /// The same street address in the same postcode.
    pub const SAME_ADDRESS: f32 = 4.0;
    /// Different postcodes: people move, so only mild.
    pub const DIFFERENT_POSTCODES: f32 = -1.0;
    /// The same city, where postcodes cannot be compared.
    pub const SAME_CITY: f32 = 0.5;
    /// The same employer (after dropping A/S, ApS, Ltd, 有限公司 …).
    pub const SAME_COMPANY: f32 = 1.5;
    /// Organisations: the same name after dropping legal forms.
    pub const SAME_ORG_NAME: f32 = 5.0;
    /// Organisations: names a typo apart or with words reordered.
    pub const SIMILAR_ORG_NAME: f32 = 3.5;
    /// Organisations: one name is the other with words added.
    pub const PARTIAL_ORG_NAME: f32 = 1.5;
    /// Organisations: unrelated names.
    pub const DIFFERENT_ORG_NAMES: f32 = -5.0;
    /// Organisations: the same web domain (or an email at it).
    pub const SAME_DOMAIN: f32 = 8.0;
    /// Organisations: different web domains.
    pub const DIFFERENT_DOMAINS: f32 = -3.0;
    /// Organisations: the same postcode.
    pub const SAME_POSTCODE: f32 = 2.0;
}

/// One piece of evidence for (positive weight) or against (negative) a duplicate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Which field it is about: `email`, `phone`, `name`, `birthday`, `address`, …
    pub field: &'static str,
    /// Its weight in bits, as summed into the score.
    pub weight: f32,
    /// A sentence in English for the merge screen, e.g. `same email anna@x.dk`.
    pub detail: String,
}

/// Evidence gathered while comparing two records.
pub(crate) struct Evidence {
    explain: bool,
    bits: f32,
    reasons: Vec<Reason>,
}

impl Evidence {
    /// Starts a comparison; `explain` writes the sentences, which a search skips for
    /// the millions of pairs it scores and then drops.
    fn new(explain: bool) -> Evidence {
        Evidence {
            explain,
            bits: weights::PRIOR,
            reasons: Vec::new(),
        }
    }

    /// Adds a piece of evidence; unless explaining, only its weight is kept.
    fn add(&mut self, field: &'static str, weight: f32, detail: impl FnOnce() -> String) {
        self.bits += weight;
        if self.explain {
            let detail = detail();
            self.reasons.push(Reason {
                field,
                weight,
                detail,
            });
        }
    }

    /// Sums the evidence and squashes it to a probability-like score.
    fn scored(self) -> Scored {
        let mut reasons = self.reasons;
        let score = 1.0 / (1.0 + (-self.bits).exp2());
        reasons.sort_by(|x, y| y.weight.total_cmp(&x.weight));
        Scored {
            score: if score.is_finite() {
                score.clamp(0.0, 1.0)
            } else {
                0.0
            },
            reasons,
        }
    }
}

/// The result of comparing two records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// How likely the two are one, `0.0..=1.0`.
    pub score: f32,
    /// The evidence, strongest for first, evidence against last.
    pub reasons: Vec<Reason>,
}

/// A likely duplicate pair, as stored and shown for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// The smaller id of the two.
    pub a: Uuid,
    /// The larger id of the two.
    pub b: Uuid,
    /// See [`Scored::score`].
    pub score: f32,
    /// See [`Scored::reasons`].
    pub reasons: Vec<Reason>,
}

impl Pair {
    /// Orders the ids so that `a < b`.
    fn new(x: Uuid, y: Uuid, scored: Scored) -> Pair {
        let (a, b) = if x <= y { (x, y) } else { (y, x) };
        Pair {
            a,
            b,
            score: scored.score,
            reasons: scored.reasons,
        }
    }
}

/// Sorts pairs best first, ties by ids, so output is the same on every run.
fn sort_pairs(pairs: &mut [Pair]) {
    pairs.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
}
