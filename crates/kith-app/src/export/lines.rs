//! Content lines as vCard (RFC 6350) and iCalendar (RFC 5545) share them: text values
//! escaped, lines ended by CRLF and folded at 75 octets.

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                // CRLF is one line break, a lone CR too.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in a content line.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Most octets of one physical line, CRLF not counted (both RFCs).
const FOLD_AT: usize = 75;

/// Appends `line` ended by CRLF, folded so no physical line passes 75 octets; a fold is
/// CRLF and a space, and never splits a multi-octet character.
pub(crate) fn push(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > FOLD_AT {
            out.push_str("\r\n ");
            // The leading space counts toward the next line's octets.
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("a,b;c\\d\r\ne\nf\rg\u{7}"),
            "a\\,b\\;c\\\\d\\ne\\nf\\ng"
        );
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let value = format!("SUMMARY:{}", "æøå张伟".repeat(20));
        push(&mut out, &value);
        assert!(out.ends_with("\r\n"));
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, value);
        let mut short = String::new();
        push(&mut short, "VERSION:4.0");
        assert_eq!(short, "VERSION:4.0\r\n");
    }
}
