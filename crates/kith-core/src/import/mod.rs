//! The pure parts of importing other systems' exports: guessing a file's text encoding
//! and delimiter, guessing which field a column header means, reading the dates, money,
//! names and yes/no values people type in Danish, Chinese and English, and reading
//! vCards.
//!
//! Not for: reading files, talking to the database or deciding what to do with a bad
//! row. The streaming readers and the batch writer live in the crates above and call in
//! here with bytes and strings; every function here answers with a value or a message
//! a user can read in the import's error report, and never panics on odd input.

pub mod columns;
pub mod encoding;
pub mod values;
pub mod vcard;

pub(crate) use crate::search::is_cjk;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::ObjectKind;

    /// A fixed-seed xorshift: the same odd inputs on every run, no extra dependency.
    struct Odd(u64);

    impl Odd {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
    }

    /// Pieces that sit on the edges of the parsers: separators, signs, currency
    /// marks, CJK, odd spaces, huge numbers, vCard syntax.
    const PIECES: &[&str] = &[
        "0",
        "1",
        "12",
        "31",
        "2026",
        "45352",
        "99999999999999999999",
        ".",
        ",",
        "-",
        "/",
        ":",
        ";",
        " ",
        "\u{a0}",
        "\u{202f}",
        "\t",
        "\n",
        "\r\n",
        "T",
        "Z",
        "+01:00",
        "kr.",
        "€",
        "$",
        "¥",
        "元",
        "(",
        ")",
        "年",
        "月",
        "日",
        "marts",
        "Mar",
        "pm",
        "张",
        "欧阳",
        "Søren",
        "Å",
        "\\",
        "\\n",
        "=",
        "=C3",
        "=\n",
        "\"",
        "BEGIN:VCARD",
        "END:VCARD",
        "FN:",
        "N:",
        "TEL;CELL:",
        "ENCODING=QUOTED-PRINTABLE",
        " ",
        "item1.",
        "😀",
        "\u{feff}",
        "\u{0}",
        "é",
        "·",
        "kl.",
        "x",
        "ja",
    ];

    #[test]
    fn no_cell_value_makes_a_parser_panic() {
        let mut odd = Odd(0x9E37_79B9_7F4A_7C15);
        for _ in 0..4000 {
            let len = (odd.next() % 12) as usize;
            let s: String = (0..len).map(|_| odd.pick(PIECES)).collect();
            for order in [values::DateOrder::DayFirst, values::DateOrder::MonthFirst] {
                let _ = values::parse_date(&s, order);
                let _ = values::parse_datetime(&s, order);
            }
            let _ = values::parse_money(&s);
            let _ = values::split_full_name(&s);
            let _ = values::parse_bool(&s);
            let _ = columns::guess(ObjectKind::Contact, &s);
            let key = columns::custom_key(&s);
            let plain = key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let starts = key.is_empty() || key.starts_with(|c: char| c.is_ascii_lowercase());
            assert!(key.len() <= 40 && plain && starts, "{key}");
            let _ = encoding::sniff_delimiter(&s);
            let _ = encoding::by_label(&s);
            let _ = vcard::parse(&s);
        }
    }

    #[test]
    fn no_bytes_make_detection_panic() {
        let mut odd = Odd(42);
        for _ in 0..2000 {
            let len = (odd.next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| odd.next() as u8).collect();
            let detected = encoding::detect(&bytes);
            assert!(detected.bom_len <= bytes.len());
            let (text, _) = detected
                .encoding
                .decode_without_bom_handling(&bytes[detected.bom_len..]);
            let _ = encoding::sniff_delimiter(&text);
        }
    }
}
