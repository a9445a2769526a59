//! Which text encoding and delimiter a delimited file uses. Excel still writes CSV in
//! the machine's legacy code page: GBK (read as GB18030, its superset) on Chinese
//! Windows and windows-1252 on Danish Windows. A file carries no label, so we look.

use std::io::Read;

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// The encoding a sample was found to be in, and why, for the import report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// Encoding to decode the whole file with.
    pub encoding: &'static Encoding,
    /// Bytes of byte order mark to skip at the start of the file.
    pub bom_len: usize,
    /// Short English reason, e.g. "byte order mark".
    pub reason: &'static str,
}

/// Guesses the encoding of a file from its first bytes (64 KiB is plenty; the sample
/// may end in the middle of a character).
///
/// Order: byte order mark; UTF-16 without one (many zero bytes, which no text in the
/// other encodings has); valid UTF-8 (pure ASCII counts as UTF-8); otherwise GB18030
/// or windows-1252, whichever reads more like real text.
pub fn detect(sample: &[u8]) -> Detected {
    if let Some((encoding, bom_len)) = Encoding::for_bom(sample) {
        return Detected {
            encoding,
            bom_len,
            reason: "byte order mark",
        };
    }
    if let Some(encoding) = utf16_without_bom(sample) {
        return found(encoding, "zero bytes between characters: UTF-16");
    }
    match std::str::from_utf8(sample) {
        Ok(s) if s.is_ascii() => found(UTF_8, "plain ASCII"),
        Ok(_) => found(UTF_8, "valid UTF-8"),
        // `error_len() == None`: only the last character is cut off by the sample's end.
        // A short sample of ASCII ending in one high byte is more likely a whole small
        // file ending in `æ` than a cut one, so that case is left to the scoring.
        Err(e)
            if e.error_len().is_none()
                && (!sample[..e.valid_up_to()].is_ascii() || sample.len() >= 1024) =>
        {
            found(UTF_8, "valid UTF-8")
        }
        Err(_) => legacy(sample),
    }
}

/// Bytes of a file's start `detect_file` reads first, and the size of the stretch it
/// looks at further in.
pub const SAMPLE: usize = 64 * 1024;

/// Guesses the encoding of a whole file: `detect` on its first 64 KiB, unless those
/// are plain ASCII. Then the first stretch that is not decides, read as the file
/// streams by: a customer list sorted by name puts Danish Æ, Ø and Å last, and an
/// ASCII start proves nothing about them. A file whose start already holds UTF-8 text
/// stays UTF-8, so a stray legacy byte later costs one refused row, not every name.
pub fn detect_file(mut file: impl Read) -> std::io::Result<Detected> {
    let head = read_up_to(&mut file, Vec::new(), SAMPLE)?;
    if !head.is_ascii() || head.len() < SAMPLE {
        return Ok(detect(&head));
    }
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(detect(&head));
        }
        if let Some(at) = chunk[..n].iter().position(|b| !b.is_ascii()) {
            let stretch = read_up_to(&mut file, chunk[at..n].to_vec(), SAMPLE)?;
            return Ok(detect(&stretch));
        }
    }
}

/// Reads on from `file` until `bytes` holds `len` bytes or the file ends.
fn read_up_to(file: &mut impl Read, mut bytes: Vec<u8>, len: usize) -> std::io::Result<Vec<u8>> {
    let had = bytes.len();
    if had < len {
        file.take((len - had) as u64).read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn found(encoding: &'static Encoding, reason: &'static str) -> Detected {
    Detected {
        encoding,
        bom_len: 0,
        reason,
    }
}

/// ASCII-range text in UTF-16 has a zero in every other byte; nothing else does.
fn utf16_without_bom(sample: &[u8]) -> Option<&'static Encoding> {
    let pairs = sample.len().min(4096) / 2;
    if pairs < 2 {
        return None;
    }
    let (mut even, mut odd) = (0, 0);
    for pair in sample[..pairs * 2].chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    // At least two in five characters ASCII, at most one in twenty pairs with a zero
    // high byte: a few zero bytes alone prove nothing.
    let most = (pairs * 2).div_ceil(5).max(1);
    let few = pairs / 20;
    if odd >= most && even <= few {
        Some(UTF_16LE)
    } else if even >= most && odd <= few {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Bytes that windows-1252 leaves undefined: a file holding them was not written in it.
const CP1252_UNDEFINED: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Chooses between GB18030 and windows-1252 for bytes that are not UTF-8.
///
/// Common Chinese characters (GB2312) are two bytes both in A1–FE, so Chinese text is
/// runs of such pairs. Danish, German or French text in windows-1252 has single
/// accented letters between ASCII letters (`S\xF8ren`), which GB18030 happens to
/// accept as rare ideographs when an ASCII letter follows, so validity alone does not
/// decide: we count which pattern the sample shows more of.
fn legacy(sample: &[u8]) -> Detected {
    let gb_valid = decodes_without_errors(GB18030, sample);
    let cp_valid = !sample.iter().any(|b| CP1252_UNDEFINED.contains(b));
    match (gb_valid, cp_valid) {
        (false, _) => found(WINDOWS_1252, "not UTF-8 nor GB18030: windows-1252"),
        (true, false) => found(GB18030, "bytes windows-1252 lacks: GB18030 (GBK)"),
        (true, true) if gb2312_pairs(sample) > isolated_latin_letters(sample) => found(
            GB18030,
            "paired high bytes like Chinese text: GB18030 (GBK)",
        ),
        (true, true) => found(
            WINDOWS_1252,
            "single accented letters like Western text: windows-1252",
        ),
    }
}

fn decodes_without_errors(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let Some(capacity) = decoder.max_utf8_buffer_length_without_replacement(bytes.len()) else {
        return false;
    };
    let mut out = String::with_capacity(capacity);
    // `last = false`: a character cut off by the end of the sample is not an error.
    let (result, _) = decoder.decode_to_string_without_replacement(bytes, &mut out, false);
    matches!(result, encoding_rs::DecoderResult::InputEmpty)
}

/// Two-byte GB18030 characters in the GB2312 area (common hanzi and full-width
/// punctuation), walking the bytes on GB18030 character boundaries.
fn gb2312_pairs(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        if !(0x81..=0xFE).contains(&lead) {
            i += 1;
        } else if (0x30..=0x39).contains(&next) {
            i += 4;
        } else if (0x40..=0xFE).contains(&next) && next != 0x7F {
            count += usize::from((0xA1..=0xF7).contains(&lead) && next >= 0xA1);
            i += 2;
        } else {
            i += 1;
        }
    }
    count
}

/// High bytes with ASCII on both sides that windows-1252 reads as a letter (æ, ø, é).
fn isolated_latin_letters(bytes: &[u8]) -> usize {
    let high = |i: Option<usize>| i.and_then(|i| bytes.get(i)).is_some_and(|b| *b >= 0x80);
    (0..bytes.len())
        .filter(|&i| bytes[i] >= 0xC0 && bytes[i] != 0xD7 && bytes[i] != 0xF7)
        .filter(|&i| !high(i.checked_sub(1)) && !high(Some(i + 1)))
        .count()
}

/// The encoding a user names on the command line (`--encoding gbk`), case-insensitive.
///
/// GBK and GB2312 decode as GB18030, their superset, and latin1/ISO-8859-1 as
/// windows-1252, as browsers do: files labelled so are nearly always those.
pub fn by_label(label: &str) -> Result<&'static Encoding, String> {
    let wanted = label.trim().to_ascii_lowercase();
    let encoding = match wanted.as_str() {
        "utf8" | "utf-8" => Some(UTF_8),
        "gbk" | "gb2312" | "gb-2312" | "gb18030" | "cp936" => Some(GB18030),
        "cp1252" | "windows-1252" | "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" => {
            Some(WINDOWS_1252)
        }
        "utf16le" | "utf-16le" => Some(UTF_16LE),
        "utf16be" | "utf-16be" => Some(UTF_16BE),
        other => Encoding::for_label(other.as_bytes()),
    };
    match encoding {
        // The "replacement" encoding stands for labels that are unsafe to decode.
        Some(e) if e != encoding_rs::REPLACEMENT => Ok(e),
        _ => Err(format!(
            "unknown encoding \"{}\": use utf-8, gbk, windows-1252 (latin1), utf-16le or utf-16be",
            label.chars().take(40).collect::<String>()
        )),
    }
}

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Guesses a delimited file's separator from its first lines: the one among `,` `;`
/// tab `|` that occurs the same number of times on most lines (quoted text aside).
/// Ties go to the earlier in that order; a sample without any gives `,`.
pub fn sniff_delimiter(sample: &str) -> u8 {
    let records = first_records(sample, 20);
    let mut best = (0usize, 0usize, b',');
    for delimiter in DELIMITERS {
        let counts: Vec<usize> = records.iter().map(|r| r[index(delimiter)]).collect();
        let Some(mode) = mode_of_nonzero(&counts) else {
            continue;
        };
        let agreeing = counts.iter().filter(|&&c| c == mode).count();
        if (agreeing, mode) > (best.0, best.1) {
            best = (agreeing, mode, delimiter);
        }
    }
    best.2
}

fn index(delimiter: u8) -> usize {
    DELIMITERS.iter().position(|&d| d == delimiter).unwrap_or(0)
}

/// Delimiter counts of the first `max` non-blank records. A record ends at a line
/// break outside double quotes, so a quoted address with a line break stays one record.
fn first_records(sample: &str, max: usize) -> Vec<[usize; 4]> {
    let mut records = Vec::new();
    let mut counts = [0usize; 4];
    let mut blank = true;
    let mut quoted = false;
    for c in sample.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => {
                if !blank {
                    records.push(counts);
                    if records.len() == max {
                        return records;
                    }
                }
                counts = [0; 4];
                blank = true;
                continue;
            }
            _ => {}
        }
        if !quoted {
            if let Some(i) = DELIMITERS
                .iter()
                .position(|&d| u32::from(d) == u32::from(c))
            {
                counts[i] += 1;
            }
        }
        blank &= c.is_whitespace();
    }
    // The sample's last line may be cut short; only trust it when it is all we have.
    if !blank && records.is_empty() {
        records.push(counts);
    }
    records
}

fn mode_of_nonzero(counts: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for &c in counts.iter().filter(|&&c| c > 0) {
        let n = counts.iter().filter(|&&x| x == c).count();
        if best.is_none_or(|(bn, bc)| (n, c) > (bn, bc)) {
            best = Some((n, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests;
