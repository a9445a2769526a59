use super::*;

fn one(text: &str) -> Card {
    let mut cards = parse(text);
    assert_eq!(cards.len(), 1, "{cards:?}");
    cards.remove(0).unwrap_or_else(|e| panic!("{e:?}"))
}

fn phone(value: &str, kinds: &[&str]) -> Phone {
    Phone {
        value: value.into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

const GOOGLE_3_0: &str = "BEGIN:VCARD\r
VERSION:3.0\r
FN:Søren Kierkegaard\r
N:Kierkegaard;Søren;Aabye;;\r
EMAIL;TYPE=INTERNET;TYPE=HOME:soren@example.dk\r
EMAIL;TYPE=INTERNET;TYPE=WORK:sk@filosofi.example.dk\r
TEL;TYPE=CELL:+45 20 12 34 56\r
TEL;TYPE=WORK:+45 33 12 34 56\r
ADR;TYPE=HOME:;;Nørregade 5;København K;;1165;Danmark\r
ORG:Filosofisk Selskab\r
TITLE:Forfatter\r
BDAY:1813-05-05\r
item1.URL:https\\://filosofi.example.dk\r
item1.X-ABLabel:\r
NOTE:Ringer helst om formiddagen\\, ikke efter kl. 16.\\nHusk bogen\\; den røde.\r
CATEGORIES:myContacts,Kunder\r
END:VCARD\r
";

#[test]
fn a_google_contacts_export_is_read_whole() {
    let card = one(GOOGLE_3_0);
    assert_eq!(card.line, 1);
    assert_eq!(card.full_name, s("Søren Kierkegaard"));
    assert_eq!(card.first_name, s("Søren Aabye"));
    assert_eq!(card.last_name, s("Kierkegaard"));
    assert_eq!(card.emails, ["soren@example.dk", "sk@filosofi.example.dk"]);
    assert_eq!(
        card.phones,
        [
            phone("+45 20 12 34 56", &["cell"]),
            phone("+45 33 12 34 56", &["work"])
        ]
    );
    let address = card.address.clone().unwrap();
    assert_eq!(address.street, s("Nørregade 5"));
    assert_eq!(address.city, s("København K"));
    assert_eq!(address.postcode, s("1165"));
    assert_eq!(address.country, s("Danmark"));
    assert_eq!(address.region, None);
    assert_eq!(card.org, s("Filosofisk Selskab"));
    assert_eq!(card.title, s("Forfatter"));
    assert_eq!(card.birthday, s("1813-05-05"));
    assert_eq!(card.url, s("https://filosofi.example.dk"));
    assert_eq!(
        card.note,
        s("Ringer helst om formiddagen, ikke efter kl. 16.\nHusk bogen; den røde.")
    );
    assert_eq!(card.categories, ["myContacts", "Kunder"]);
    assert!(card.skipped.is_empty());
}

const IPHONE_3_0: &str = "BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//iPhone OS 17.4//EN
N:张;伟;;;
FN:张伟
ORG:华为技术有限公司;销售部;
TITLE:销售经理
item1.EMAIL;type=INTERNET:wei.zhang@example.cn
item1.X-ABLabel:_$!<Other>!$_
item2.EMAIL;type=INTERNET;type=pref:zhangwei@example.com
TEL;type=CELL;type=VOICE:138 0013 8000
item3.TEL;type=pref:010-8888 6666
item3.X-ABLabel:_$!<Main>!$_
item4.ADR;type=WORK;type=pref:;;朝阳区建国路88号\\n华贸中心;北京市;北京;100022;中国
item4.X-ABADR:cn
BDAY;value=date:1985-04-12
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAASABIAAD/4QBMRXhpZgAATU0AKgAAAAgAAYdpAAQAAAABAAAAGg
 AAAAAAA6ABAAMAAAABAAEAAKACAAQAAAABAAAAgKADAAQAAAABAAAAgAAAAAD/7QA4UGhvdG9zaG9w
 IDMuMAA4QklNBAQAAAAAAAA4QklNBCUAAAAAABDUHYzZjwCyBOmACZjs+EJ+/8AAEQgAgACAAwEiAA
 ENDVCARDIRAQMRAf/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMF
 TELBQQEAAABfQECAwAEEQUSITFBBhNRYQcicYEUMpGhCCNCscEVUtHwJDNicoKSoQgJChYXGBkaJS==
X-SOCIALPROFILE;type=weibo;x-user=zhangwei:http://weibo.com/zhangwei
CATEGORIES:VIP
END:VCARD
";

#[test]
fn an_iphone_export_skips_the_photo_and_keeps_the_rest() {
    let card = one(IPHONE_3_0);
    assert_eq!(card.full_name, s("张伟"));
    assert_eq!(
        (card.first_name.as_deref(), card.last_name.as_deref()),
        (Some("伟"), Some("张"))
    );
    assert_eq!(card.org, s("华为技术有限公司"));
    assert_eq!(card.title, s("销售经理"));
    assert_eq!(
        card.emails,
        ["zhangwei@example.com", "wei.zhang@example.cn"]
    );
    assert_eq!(
        card.phones,
        [
            phone("010-8888 6666", &["main"]),
            phone("138 0013 8000", &["cell", "voice"])
        ]
    );
    let address = card.address.clone().unwrap();
    assert_eq!(address.street, s("朝阳区建国路88号, 华贸中心"));
    assert_eq!(address.city, s("北京市"));
    assert_eq!(address.region, s("北京"));
    assert_eq!(card.birthday, s("1985-04-12"));
    assert_eq!(card.skipped, ["PHOTO skipped"]);
    assert_eq!(card.categories, ["VIP"]);
}

const VERSION_4_0: &str = "BEGIN:VCARD
VERSION:4.0
KIND:individual
FN:Mette Frederiksen
N:Frederiksen;Mette;;;
EMAIL;TYPE=home:mette.f@example.com
EMAIL;TYPE=work;PREF=1:mette@example.dk
TEL;VALUE=uri;TYPE=\"cell,voice\":tel:+45-20-30-40-50
TEL;VALUE=uri;TYPE=work:tel:+45-33-92-33-00;ext=123
ADR;TYPE=work;LABEL=\"Prins Jørgens Gård 11\\n1218 København K\":;;Prins Jørgens Gård 11;København K;Region Hovedstaden;1218;DK
BDAY:--0419
UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1
LANG;PREF=1:da
END:VCARD
";

#[test]
fn a_version_4_card_reads_uris_and_preferences() {
    let card = one(VERSION_4_0);
    assert_eq!(card.emails, ["mette@example.dk", "mette.f@example.com"]);
    assert_eq!(
        card.phones,
        [
            phone("+45-20-30-40-50", &["cell", "voice"]),
            phone("+45-33-92-33-00;ext=123", &["work"])
        ]
    );
    let address = card.address.clone().unwrap();
    assert_eq!(address.street, s("Prins Jørgens Gård 11"));
    assert_eq!(address.region, s("Region Hovedstaden"));
    assert_eq!(address.country, s("DK"));
    assert_eq!(card.birthday, s("--0419"));
    assert_eq!(card.uid, s("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"));
}

const VERSION_2_1: &str = "BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=B8rgensen;=C3=85se;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=85se J=C3=B8rgensen
TEL;CELL;PREF:+4520304050
TEL;HOME;VOICE:86 12 34 56
EMAIL;INTERNET:aase@example.dk
ADR;HOME;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;=C3=98stergade 12;=C3=85rhus C;;8000;Danmark
NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=B8dt p=C3=A5 messen i =C3=85rhus. Vil have tilbud p=C3=A5 =
=C3=A6bletr=C3=A6er.
PHOTO;ENCODING=BASE64;TYPE=JPEG:
 /9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////
 //////////////////////////////////////////////////////////////2wBDAf//////

END:VCARD
";

#[test]
fn an_old_phones_quoted_printable_card_keeps_its_danish_letters() {
    let card = one(VERSION_2_1);
    assert_eq!(card.full_name, s("Åse Jørgensen"));
    assert_eq!(card.first_name, s("Åse"));
    assert_eq!(card.last_name, s("Jørgensen"));
    assert_eq!(
        card.phones,
        [
            phone("+4520304050", &["cell"]),
            phone("86 12 34 56", &["home", "voice"])
        ]
    );
    assert_eq!(card.emails, ["aase@example.dk"]);
    let address = card.address.clone().unwrap();
    assert_eq!(address.street, s("Østergade 12"));
    assert_eq!(address.city, s("Århus C"));
    assert_eq!(
        card.note,
        s("Mødt på messen i Århus. Vil have tilbud på æbletræer.")
    );
    assert_eq!(card.skipped, ["PHOTO skipped"]);
}

#[test]
fn quoted_printable_in_latin1_is_decoded() {
    let card = one(
        "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:S=F8rensen;Bj=F8rn\nEND:VCARD\n",
    );
    assert_eq!(
        (card.first_name, card.last_name),
        (s("Bjørn"), s("Sørensen"))
    );
}

#[test]
fn cards_report_the_line_they_begin_on() {
    let text = format!("Exported by OldCRM\n\n{GOOGLE_3_0}\n{VERSION_4_0}");
    let cards = parse(&text);
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0].as_ref().unwrap().line, 3);
    assert_eq!(cards[1].as_ref().unwrap().line, 21);
}

#[test]
fn a_card_cut_short_is_an_error_at_its_begin_line() {
    let cards = parse(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nBEGIN:VCARD\nFN:Bo\nEND:VCARD\nBEGIN:VCARD\nFN:Cy\n",
    );
    assert_eq!(cards.len(), 3);
    let first = cards[0].as_ref().unwrap_err();
    assert_eq!(first.line, 1);
    assert!(first.message.contains("END:VCARD"), "{}", first.message);
    assert_eq!(cards[1].as_ref().unwrap().full_name, s("Bo"));
    assert_eq!(cards[2].as_ref().unwrap_err().line, 7);
}

#[test]
fn a_card_without_name_email_or_phone_is_an_error() {
    let cards = parse("BEGIN:VCARD\nVERSION:3.0\nORG:Acme A/S\nPHOTO:https://x/y.jpg\nEND:VCARD\n");
    let err = cards[0].as_ref().unwrap_err();
    assert_eq!(err.line, 1);
    assert!(
        err.message.contains("no name, email or phone"),
        "{}",
        err.message
    );
    let only_email = one("BEGIN:VCARD\nEMAIL:a@b.dk\nEND:VCARD");
    assert_eq!(only_email.emails, ["a@b.dk"]);
}

#[test]
fn folded_lines_are_joined_with_crlf_lf_and_tabs() {
    let card = one("begin:vcard\r\nfn:Hans Chri\r\n stian Andersen\r\nnote:one\n\ttwo\nEND:VCARD");
    assert_eq!(card.full_name, s("Hans Christian Andersen"));
    assert_eq!(card.note, s("onetwo"));
}

#[test]
fn escapes_are_undone_and_plain_backslashes_kept() {
    let card = one("BEGIN:VCARD\nFN:A\\, B\nNOTE:x\\;y\\\\z\\Nw C:\\temp\nEND:VCARD");
    assert_eq!(card.full_name, s("A, B"));
    assert_eq!(card.note, s("x;y\\z\nw C:\\temp"));
}

#[test]
fn text_outside_cards_and_unknown_properties_are_ignored() {
    let cards = parse(
        "hello\nFN:Not a card\nEND:VCARD\nBEGIN:VCARD\nX-FOO;BAR=1:baz\nFN:Ok\nEND:VCARD\ntrailing",
    );
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].as_ref().unwrap().full_name, s("Ok"));
}

#[test]
fn odd_input_never_panics() {
    let weird = [
        "",
        "BEGIN:VCARD",
        "END:VCARD",
        "BEGIN:VCARD\n:\n;\n=\nFN;ENCODING=QUOTED-PRINTABLE:=\n",
        "BEGIN:VCARD\nN:;;;;;;;;;;\nTEL:\nEMAIL:mailto:\nADR:;;;;;;;\nEND:VCARD",
        "BEGIN:VCARD\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=nonsense:=ZZ=4=\nEND:VCARD",
        "BEGIN:VCARD\nFN;TYPE=\"unterminated:x\nEND:VCARD",
        "\u{feff}BEGIN:VCARD\nFN:😀\\\nEND:VCARD",
        " \n\t\n BEGIN:VCARD",
    ];
    for text in weird {
        let _ = parse(text);
    }
    let card = one(
        "\u{feff}BEGIN:VCARD\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=nonsense:=ZZ=4=41\nEND:VCARD",
    );
    assert_eq!(card.full_name, s("=ZZ=4A"));
}

#[test]
fn old_mac_line_breaks_read_as_lines() {
    let cards = parse(
        "BEGIN:VCARD\rVERSION:3.0\rFN:Ane Hansen\rEND:VCARD\rBEGIN:VCARD\rFN:Bo Berg\rEMAIL:bo@example.dk\rEND:VCARD\r",
    );
    assert_eq!(cards.len(), 2);
    let bo = cards[1].as_ref().unwrap();
    assert_eq!(bo.full_name, s("Bo Berg"));
    assert_eq!(bo.emails, vec!["bo@example.dk".to_string()]);
    assert_eq!(bo.line, 5, "the line the card begins on");
    let broken = parse("BEGIN:VCARD\r\nFN:Ane\r\nEND:VCARD\r\rBEGIN:VCARD\rEMAIL:x@example.dk\r");
    assert_eq!(broken[1].as_ref().unwrap_err().line, 5);
}

#[test]
fn cards_come_out_as_soon_as_their_last_line_is_read() {
    let mut cards = super::Cards::default();
    let lines = [
        "BEGIN:VCARD",
        "FN:Ane Hansen",
        "NOTE:first half",
        "  and second half",
        "END:VCARD",
        "BEGIN:VCARD",
        "FN:Bo Berg",
        "BEGIN:VCARD",
        "EMAIL:cut@example.dk",
    ];
    let mut out: Vec<(usize, Result<Card, CardError>)> = vec![];
    for line in lines {
        if let Some(card) = cards.line(line) {
            out.push((cards.lines(), card));
        }
    }
    // A logical line is whole once the next begins, so END:VCARD (line 5) is known at
    // line 6, and Bo's card is known to be cut off when the next BEGIN is followed.
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].0, 6);
    let ane = out[0].1.as_ref().unwrap();
    assert_eq!(ane.note, s("first half and second half"));
    assert_eq!(out[1].0, 9);
    assert_eq!(out[1].1.as_ref().unwrap_err().line, 6);
    let rest = cards.finish();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].as_ref().unwrap_err().line, 8);
}
