//! The pure parts of importing other systems' exports: guessing a file's text encoding
//! and delimiter, guessing which field a column header means, reading the dates, money,
//! names and yes/no values people type in Danish, Chinese and English, and reading
//! vCards.
//!
//! Not for: reading files, talking to the database or deciding what to do with a bad
//! row. The streaming readers and the batch writer live in the crates above and call in
//! here with bytes and strings; every function here answers with a value or a message
//! a user can read in the import's error report, and never panics on odd input.

pub mod choices;
pub mod columns;
pub mod consent;
pub mod encoding;
pub mod values;
pub mod vcard;

pub(crate) use crate::search::is_cjk;
