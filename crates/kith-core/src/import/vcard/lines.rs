//! The syntax of a vCard's content lines: unfolding, `group.NAME;PARAM=value:text`,
//! escapes, and 2.1's quoted-printable with its charset.

use encoding_rs::{Encoding, UTF_8};

/// A content line after unfolding, with the file line (1-based) it starts on.
pub(super) struct Logical {
    pub(super) number: usize,
    pub(super) text: String,
}

/// Joins folded lines (a line break followed by a space or tab) and 2.1
/// quoted-printable soft line breaks (a value ending in `=`) into logical lines, one
/// file line at a time: a logical line is only known to be whole when the next one
/// starts, so each is handed out one line late, and the last by `finish`.
#[derive(Default)]
pub(super) struct Unfold {
    pending: Option<Logical>,
    soft_break: bool,
    number: usize,
}

impl Unfold {
    /// Takes the next file line (without its line break); returns the logical line it
    /// completes, if any.
    pub(super) fn push(&mut self, raw: &str) -> Option<Logical> {
        self.number += 1;
        let raw = match self.number {
            1 => raw.strip_prefix('\u{feff}').unwrap_or(raw),
            _ => raw,
        };
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let boundary = raw.trim().eq_ignore_ascii_case("END:VCARD")
            || raw.trim().eq_ignore_ascii_case("BEGIN:VCARD");
        if let Some(last) = self.pending.as_mut() {
            if self.soft_break && !boundary {
                last.text.pop();
                last.text.push_str(raw);
                self.soft_break = last.text.ends_with('=');
                return None;
            }
            if let Some(rest) = raw.strip_prefix([' ', '\t']) {
                last.text.push_str(rest);
                self.soft_break = is_quoted_printable(&last.text) && last.text.ends_with('=');
                return None;
            }
        }
        self.soft_break = false;
        // Blank lines end 2.1 base64 blocks; lines without a colon are such data.
        if !raw.contains(':') {
            return None;
        }
        self.soft_break = is_quoted_printable(raw) && raw.ends_with('=');
        self.pending.replace(Logical {
            number: self.number,
            text: raw.to_string(),
        })
    }

    /// The last logical line, once the file has ended.
    pub(super) fn finish(self) -> Option<Logical> {
        self.pending
    }

    /// The number of file lines taken so far.
    pub(super) fn lines(&self) -> usize {
        self.number
    }
}

fn is_quoted_printable(line: &str) -> bool {
    let head = line.split(':').next().unwrap_or("");
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

/// One content line: `group.NAME;PARAM=a,b;BARE:value`.
pub(super) struct Property {
    pub(super) group: Option<String>,
    pub(super) name: String,
    /// Upper-case parameter names with one value each (lists are split).
    params: Vec<(String, String)>,
    value: String,
}

impl Property {
    pub(super) fn read(line: &str) -> Option<Property> {
        let colon = outside_quotes(line, ':').into_iter().next()?;
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let mut parts = split_outside_quotes(head, ';').into_iter();
        let full_name = parts.next()?.trim();
        let (group, name) = match full_name.rsplit_once('.') {
            Some((g, n)) => (Some(g.to_ascii_lowercase()), n),
            None => (None, full_name),
        };
        let mut params = Vec::new();
        for part in parts {
            let (key, values) = match part.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_uppercase(), v),
                None if is_encoding(part) => ("ENCODING".to_string(), part),
                None => ("TYPE".to_string(), part),
            };
            // 4.0 quotes lists (TYPE="cell,voice"); its items are what we want.
            for v in values.split(',') {
                params.push((key.clone(), v.trim().trim_matches('"').to_string()));
            }
        }
        Some(Property {
            group,
            name: name.to_ascii_uppercase(),
            params,
            value: value.to_string(),
        })
    }

    pub(super) fn param<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.params
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn preferred(&self) -> bool {
        self.param("TYPE").any(|t| t.eq_ignore_ascii_case("pref"))
            || self.param("PREF").next().is_some()
    }

    /// The value as text: quoted-printable and charset decoded, escapes undone.
    pub(super) fn text(&self) -> String {
        unescape(&self.decode(&self.value)).trim().to_string()
    }

    /// The `;`-separated components, each a `,`-separated list of texts.
    pub(super) fn components(&self) -> Vec<Vec<String>> {
        split_unescaped(&self.value, ';')
            .into_iter()
            .map(|c| {
                split_unescaped(&c, ',')
                    .into_iter()
                    .map(|v| unescape(&self.decode(&v)).trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .collect()
    }

    fn decode(&self, raw: &str) -> String {
        let quoted = self
            .param("ENCODING")
            .any(|e| e.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
        if !quoted {
            return raw.to_string();
        }
        let charset = self
            .param("CHARSET")
            .next()
            .and_then(|c| Encoding::for_label(c.as_bytes()))
            .unwrap_or(UTF_8);
        charset
            .decode_without_bom_handling(&quoted_printable(raw))
            .0
            .into_owned()
    }
}

fn is_encoding(bare: &str) -> bool {
    ["QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"]
        .iter()
        .any(|e| bare.trim().eq_ignore_ascii_case(e))
}

/// Byte offsets of `sep` outside double quotes.
fn outside_quotes(s: &str, sep: char) -> Vec<usize> {
    let mut quoted = false;
    let mut at = Vec::new();
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            at.push(i);
        }
    }
    at
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in outside_quotes(s, sep) {
        parts.push(&s[start..i]);
        start = i + sep.len_utf8();
    }
    parts.push(&s[start..]);
    parts
}

/// Splits on `sep` where no backslash escapes it; escapes stay for `unescape`.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            current.extend(chars.next());
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

/// Undoes vCard text escapes: `\n` `\N` `\,` `\;` `\:` `\\`. Other backslashes are
/// kept, since 2.1 files do not escape them (`C:\temp`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('n' | 'N') => out.push('\n'),
            Some(&e @ (',' | ';' | ':' | '\\')) => out.push(e),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

/// `=C3=B8` → bytes; a malformed escape is kept as written.
fn quoted_printable(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'=', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}
