//! vCards (.vcf) as phones, Apple Contacts, Google Contacts and Outlook export them:
//! versions 2.1, 3.0 and 4.0, with folded lines, property groups, both parameter
//! styles and 2.1's quoted-printable text. Only what a CRM contact holds is read;
//! photos and other binary data are skipped and noted.

mod lines;

use lines::{Logical, Property, Unfold};

/// One contact read from a vCard; text is unescaped and decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    /// Line of the file (1-based) where the card's BEGIN:VCARD is.
    pub line: usize,
    /// FN: the name as displayed.
    pub full_name: Option<String>,
    /// N's given and additional names.
    pub first_name: Option<String>,
    /// N's family name.
    pub last_name: Option<String>,
    /// EMAIL values, preferred first.
    pub emails: Vec<String>,
    /// TEL values, preferred first.
    pub phones: Vec<Phone>,
    /// ORG's organisation name (without department).
    pub org: Option<String>,
    /// TITLE.
    pub title: Option<String>,
    /// BDAY as written (e.g. 1985-04-12, 19850412, --0412); parse it with `parse_date`.
    pub birthday: Option<String>,
    /// The first (or preferred) ADR.
    pub address: Option<Address>,
    /// NOTE; several are joined by a blank line.
    pub note: Option<String>,
    /// CATEGORIES, which become tags.
    pub categories: Vec<String>,
    /// The first URL.
    pub url: Option<String>,
    /// UID, the exporting system's id for the contact.
    pub uid: Option<String>,
    /// What was left out, for the import report, e.g. "PHOTO skipped".
    pub skipped: Vec<String>,
}

/// A phone number and what kind it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phone {
    /// The number as written (a 4.0 `tel:` URI without its scheme).
    pub value: String,
    /// Lower-case TYPE values and Apple/Google labels: cell, work, home, voice, fax, mobile…
    pub kinds: Vec<String>,
}

/// A postal address from ADR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Street and number, with the extended address (floor, suite) after a comma.
    pub street: Option<String>,
    /// Locality.
    pub city: Option<String>,
    /// Region, state or province.
    pub region: Option<String>,
    /// Postal code.
    pub postcode: Option<String>,
    /// Country as written (a name or a code).
    pub country: Option<String>,
}

/// A card that could not be read, for the import report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError {
    /// Line of the file (1-based) where the card's BEGIN:VCARD is.
    pub line: usize,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

/// Reads every card in a .vcf file's text, in order; text outside cards is ignored.
/// A card without END:VCARD, or without any name, email or phone, is an error that
/// points at its BEGIN:VCARD line.
pub fn parse(text: &str) -> Vec<Result<Card, CardError>> {
    // Old Mac files break lines with a lone `\r`, which `lines()` does not split on.
    let text = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let mut reader = Cards::default();
    let mut out: Vec<_> = text.lines().filter_map(|l| reader.line(l)).collect();
    out.extend(reader.finish());
    out
}

/// Reads cards from a file one line at a time, so a file of any size streams: feed
/// every line with `line`, then call `finish`. Gives what `parse` gives.
#[derive(Default)]
pub struct Cards {
    unfold: Unfold,
    open: Option<Building>,
}

impl Cards {
    /// Takes the file's next line (without its line break); returns the card or error
    /// it completes, if any.
    pub fn line(&mut self, raw: &str) -> Option<Result<Card, CardError>> {
        let logical = self.unfold.push(raw)?;
        self.logical(logical)
    }

    /// The file has ended: the cards still being read (at most two).
    pub fn finish(mut self) -> Vec<Result<Card, CardError>> {
        let last = std::mem::take(&mut self.unfold).finish();
        let mut out: Vec<_> = last.and_then(|l| self.logical(l)).into_iter().collect();
        if let Some(card) = self.open {
            out.push(Err(unfinished(card.card.line)));
        }
        out
    }

    /// The number of file lines taken so far.
    pub fn lines(&self) -> usize {
        self.unfold.lines()
    }

    fn logical(&mut self, line: Logical) -> Option<Result<Card, CardError>> {
        let text = line.text.trim();
        if text.eq_ignore_ascii_case("BEGIN:VCARD") {
            let before = self.open.replace(Building::new(line.number));
            before.map(|card| Err(unfinished(card.card.line)))
        } else if text.eq_ignore_ascii_case("END:VCARD") {
            self.open.take().map(Building::finish)
        } else {
            if let (Some(card), Some(prop)) = (self.open.as_mut(), Property::read(&line.text)) {
                card.add(&prop);
            }
            None
        }
    }
}

fn unfinished(line: usize) -> CardError {
    CardError {
        line,
        message: "this vCard has no END:VCARD line; the file may be cut short".into(),
    }
}

/// A card being read, with what is only known once all its lines are in.
struct Building {
    card: Card,
    emails: Vec<(bool, String)>,
    phones: Vec<(bool, Phone, Option<String>)>,
    labels: Vec<(String, String)>,
    address_preferred: bool,
}

impl Building {
    fn new(line: usize) -> Self {
        Building {
            card: Card {
                line,
                ..Card::default()
            },
            emails: Vec::new(),
            phones: Vec::new(),
            labels: Vec::new(),
            address_preferred: false,
        }
    }

    fn add(&mut self, p: &Property) {
        let card = &mut self.card;
        match p.name.as_str() {
            "FN" => card.full_name = some(p.text()),
            "N" => {
                let parts = p.components();
                let part = |i: usize| parts.get(i).map(|v| v.join(" ")).unwrap_or_default();
                card.last_name = some(part(0));
                card.first_name = some(format!("{} {}", part(1), part(2)).trim().to_string());
            }
            "EMAIL" => {
                let text = p.text();
                let email = strip_scheme(&text, "mailto:");
                if !email.is_empty() {
                    self.emails.push((p.preferred(), email.to_string()));
                }
            }
            "TEL" => {
                let text = p.text();
                let number = tel_number(strip_scheme(&text, "tel:"));
                if !number.trim().is_empty() {
                    let mut kinds = Vec::new();
                    for kind in p.param("TYPE").map(str::to_lowercase) {
                        if kind != "pref" && !kind.is_empty() && !kinds.contains(&kind) {
                            kinds.push(kind);
                        }
                    }
                    let phone = Phone {
                        value: number.trim().to_string(),
                        kinds,
                    };
                    self.phones.push((p.preferred(), phone, p.group.clone()));
                }
            }
            "ORG" => card.org = p.components().into_iter().flatten().next(),
            "TITLE" => card.title = some(p.text()),
            "BDAY" => card.birthday = some(p.text()),
            "ADR" => {
                let preferred = p.preferred();
                if card.address.is_none() || (preferred && !self.address_preferred) {
                    card.address = address(&p.components());
                    self.address_preferred = preferred && card.address.is_some();
                }
            }
            "NOTE" => {
                let text = p.text();
                card.note = match (card.note.take(), some(text)) {
                    (Some(a), Some(b)) => Some(format!("{a}\n\n{b}")),
                    (a, b) => a.or(b),
                };
            }
            "CATEGORIES" => {
                for tag in p.components().into_iter().flatten() {
                    if !card.categories.contains(&tag) {
                        card.categories.push(tag);
                    }
                }
            }
            "URL" if card.url.is_none() => card.url = some(p.text()),
            "UID" => card.uid = some(p.text()),
            "PHOTO" | "LOGO" | "SOUND" | "KEY" => {
                let note = format!("{} skipped", p.name);
                if !card.skipped.contains(&note) {
                    card.skipped.push(note);
                }
            }
            "X-ABLABEL" => {
                if let Some(group) = &p.group {
                    let label = p.text().replace("_$!<", "").replace(">!$_", "");
                    self.labels
                        .push((group.clone(), label.trim().to_lowercase()));
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Result<Card, CardError> {
        // Stable sorts: preferred first, otherwise the file's order.
        self.emails.sort_by_key(|(preferred, _)| !preferred);
        self.phones.sort_by_key(|(preferred, _, _)| !preferred);
        let mut card = self.card;
        card.emails = self.emails.into_iter().map(|(_, e)| e).collect();
        for (_, mut phone, group) in self.phones {
            let labels = self
                .labels
                .iter()
                .filter(|(g, _)| Some(g) == group.as_ref());
            for (_, label) in labels {
                if !label.is_empty() && !phone.kinds.contains(label) {
                    phone.kinds.push(label.clone());
                }
            }
            card.phones.push(phone);
        }
        let named =
            card.full_name.is_some() || card.first_name.is_some() || card.last_name.is_some();
        if named || !card.emails.is_empty() || !card.phones.is_empty() {
            Ok(card)
        } else {
            Err(CardError {
                line: card.line,
                message: "this vCard has no name, email or phone".into(),
            })
        }
    }
}

/// A `tel:` URI's number and extension (`+4570123456;ext=12`); its other parameters
/// (`phone-context`, `isub`) are dropped, as the number is stored in E.164.
fn tel_number(uri: &str) -> std::borrow::Cow<'_, str> {
    let mut params = uri.split(';');
    let number = params.next().unwrap_or("");
    let ext = params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("ext") && !value.trim().is_empty()).then_some(value)
    });
    match ext {
        Some(ext) => format!("{number};ext={}", ext.trim()).into(),
        None => number.into(),
    }
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> &'a str {
    match value.get(..scheme.len()) {
        Some(head) if head.eq_ignore_ascii_case(scheme) => &value[scheme.len()..],
        _ => value,
    }
}

/// ADR: post office box; extended address; street; locality; region; postal code; country.
fn address(parts: &[Vec<String>]) -> Option<Address> {
    let part = |i: usize| some(parts.get(i).map(|v| v.join(", ")).unwrap_or_default());
    let one_line =
        |s: Option<String>| s.map(|s| s.lines().map(str::trim).collect::<Vec<_>>().join(", "));
    let street = match (one_line(part(2)), one_line(part(1)), part(0)) {
        (Some(street), Some(extended), _) => Some(format!("{street}, {extended}")),
        (street, extended, po_box) => street.or(extended).or(po_box),
    };
    let address = Address {
        street,
        city: part(3),
        region: part(4),
        postcode: part(5),
        country: part(6),
    };
    (address != Address::default()).then_some(address)
}

fn some(s: String) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests;
