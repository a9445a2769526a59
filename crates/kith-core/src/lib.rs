//! Kith's pure domain: the CRM's objects and their fields, validation and normalisation
//! of user input (emails, phones, money, dates), the filter language, and the search
//! tokeniser.
//!
//! Not for: I/O of any kind. Nothing here touches a database, a socket or a clock that
//! the caller did not hand in, so all of it is tested with plain unit tests.

#[cfg(test)]
mod awkward_input_tests;
pub mod campaigns;
mod contact_points;
pub mod dedup;
mod error;
pub mod fields;
pub mod filter;
pub mod import;
pub mod jobs;
pub mod listing;
pub mod objects;
pub mod search;
pub mod seeded;
pub mod segmentation;
pub mod templates;
mod values;
pub mod wall_clock;
pub mod workflows;

pub use contact_points::{normalise_email, normalise_phone, PhoneRegion};
pub use error::{Error, FieldErrors};
pub use values::{Scalar, ScalarType};
