use super::*;

fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "test text must fit {}", encoding.name());
    bytes.into_owned()
}

#[test]
fn danish_excel_csv_is_read_as_windows_1252() {
    for text in [
        "Søren;Nørregade 5;Århus",
        "Fornavn;Efternavn;By\nSøren;Kierkegaard;Århus\nÆbelø;Ærø;Ølstykke\n",
        "Name,City\nJosé Müller,Køge\nBjørn,Blåvand\n",
        "navn;adresse\nMette Frederiksen;Bøgevej 12, 2. sal\nÅse;Å\n",
    ] {
        let detected = detect(&encode(WINDOWS_1252, text));
        assert_eq!(
            detected.encoding, WINDOWS_1252,
            "{text}: {}",
            detected.reason
        );
        assert_eq!(detected.bom_len, 0);
    }
}

#[test]
fn chinese_excel_csv_is_read_as_gb18030() {
    for text in [
        "张伟,北京市朝阳区,华为技术有限公司",
        "姓名,手机,公司\n王小明,13800138000,阿里巴巴\n李娜,13912345678,腾讯科技（深圳）有限公司\n",
        "name,city\nZhang Wei,上海\n",
    ] {
        let bytes = encode(encoding_rs::GBK, text);
        let detected = detect(&bytes);
        assert_eq!(detected.encoding, GB18030, "{text}: {}", detected.reason);
    }
}

#[test]
fn realistic_exports_are_told_apart() {
    let danish = "Kundenr;Fornavn;Efternavn;Adresse;Postnr;By;Noter\n\
        1001;Søren;Sørensen;Østergade 12, 2. th.;8000;Århus C;Blåøjet, vil have tilbud på æbletræer\n\
        1002;Åse;Bøgh;Ærøvej 3;5700;Svendborg;Mødt på messen – ring igen\n\
        1003;Jens;Ølgaard;Gl. Kongevej 1;1610;København V;\"Særlig aftale\"\n";
    assert_eq!(detect(&encode(WINDOWS_1252, danish)).encoding, WINDOWS_1252);
    let chinese = "客户编号,姓名,手机,邮箱,公司,地址,备注\n\
        C001,朱镕基,13800138000,zhu@example.cn,北京喆堃科技有限公司,北京市海淀区中关村大街1号,VIP客户\n\
        C002,欧阳娜娜,13912345678,nana@example.com,上海某某贸易公司,上海市浦东新区世纪大道100号,\n";
    assert_eq!(detect(&encode(encoding_rs::GBK, chinese)).encoding, GB18030);
    for word in ["Søren", "Århus", "æ", "Bøgh;Ærø"] {
        assert_eq!(
            detect(&encode(WINDOWS_1252, word)).encoding,
            WINDOWS_1252,
            "{word}"
        );
    }
    for word in ["张", "张伟", "华为"] {
        assert_eq!(
            detect(&encode(encoding_rs::GBK, word)).encoding,
            GB18030,
            "{word}"
        );
    }
}

#[test]
fn a_sample_cut_mid_character_is_still_recognised() {
    let gbk = encode(encoding_rs::GBK, "张伟,北京市朝阳区,华为技术有限公司");
    assert_eq!(detect(&gbk[..gbk.len() - 1]).encoding, GB18030);
    let utf8 = "Søren,张伟".as_bytes();
    assert_eq!(detect(&utf8[..utf8.len() - 1]).encoding, UTF_8);
}

#[test]
fn ascii_and_utf8_files_are_read_as_utf8() {
    assert_eq!(
        detect(b"first_name,last_name\nAnn,Lee\n").reason,
        "plain ASCII"
    );
    for text in ["张伟,北京市朝阳区", "Søren;Nørregade 5;Århus", ""] {
        assert_eq!(detect(text.as_bytes()).encoding, UTF_8, "{text}");
    }
}

#[test]
fn byte_order_marks_decide_and_are_skipped() {
    let d = detect(b"\xEF\xBB\xBFname\n");
    assert_eq!((d.encoding, d.bom_len), (UTF_8, 3));
    let d = detect(b"\xFF\xFEn\0a\0");
    assert_eq!((d.encoding, d.bom_len), (UTF_16LE, 2));
    let d = detect(b"\xFE\xFF\0n\0a");
    assert_eq!((d.encoding, d.bom_len), (UTF_16BE, 2));
}

#[test]
fn utf16_without_a_byte_order_mark_is_recognised() {
    let le: Vec<u8> = "name,city\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let be: Vec<u8> = "name,city\n"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_eq!(detect(&le).encoding, UTF_16LE);
    assert_eq!(detect(&be).encoding, UTF_16BE);
}

#[test]
fn garbage_bytes_never_panic() {
    let all: Vec<u8> = (0..=255).collect();
    for sample in [
        &all[..],
        &[0xFF][..],
        &[0x81][..],
        &[0x81, 0x30][..],
        &[0; 1][..],
    ] {
        let _ = detect(sample);
    }
}

#[test]
fn encodings_are_found_by_the_names_people_use() {
    for (label, expected) in [
        ("UTF-8", UTF_8),
        ("utf8", UTF_8),
        ("GBK", GB18030),
        ("gb2312", GB18030),
        ("GB18030", GB18030),
        ("windows-1252", WINDOWS_1252),
        ("CP1252", WINDOWS_1252),
        ("latin1", WINDOWS_1252),
        ("ISO-8859-1", WINDOWS_1252),
        (" utf-16le ", UTF_16LE),
        ("UTF-16BE", UTF_16BE),
    ] {
        assert_eq!(by_label(label), Ok(expected), "{label}");
    }
}

#[test]
fn unknown_encodings_are_refused_with_the_choices() {
    let err = by_label("klingon").unwrap_err();
    assert!(err.contains("klingon") && err.contains("gbk"), "{err}");
    assert!(by_label("").is_err());
    assert!(by_label("iso-2022-kr").is_err());
}

#[test]
fn the_delimiter_is_the_one_used_on_every_line() {
    assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
    assert_eq!(
        sniff_delimiter("navn;beløb\nSøren;12,5\nAnn;1.234,00\n"),
        b';'
    );
    assert_eq!(sniff_delimiter("a\tb\tc\n1\t2,5\t3\n"), b'\t');
    assert_eq!(sniff_delimiter("a|b\n1|2\n"), b'|');
}

#[test]
fn delimiters_inside_quotes_do_not_count() {
    let csv = "name;address\n\"Lee, Ann\";\"Vej 1, 2. sal\"\n\"Bo, Li\";\"Gade 2,\nst.\"\n";
    assert_eq!(sniff_delimiter(csv), b';');
}

#[test]
fn a_single_column_or_empty_sample_gives_comma() {
    assert_eq!(sniff_delimiter(""), b',');
    assert_eq!(sniff_delimiter("email\na@b.dk\n"), b',');
    assert_eq!(sniff_delimiter("   \n\n"), b',');
}

#[test]
fn a_cut_off_last_line_does_not_mislead() {
    assert_eq!(sniff_delimiter("a;b;c\n1;2;3\n4;5,6,7,8,9"), b';');
}

#[test]
fn a_file_that_starts_in_ascii_is_judged_by_its_first_other_bytes() {
    let ascii_rows = "Andersen;Anne;Aarhus\n".repeat(SAMPLE / 10);
    let file = |tail: &[u8]| [ascii_rows.as_bytes(), tail].concat();
    let danish = file(&encode(WINDOWS_1252, "Ørsted;Søren;Århus\n"));
    assert_eq!(detect(&danish[..SAMPLE]).encoding, UTF_8, "the start alone");
    assert_eq!(detect_file(&danish[..]).unwrap().encoding, WINDOWS_1252);
    let chinese = file(&encode(GB18030, "王;芳;北京市朝阳区\n"));
    assert_eq!(detect_file(&chinese[..]).unwrap().encoding, GB18030);
    let utf8 = file("Ørsted;Søren;Århus\n".as_bytes());
    assert_eq!(detect_file(&utf8[..]).unwrap().encoding, UTF_8);
    assert_eq!(detect_file(ascii_rows.as_bytes()).unwrap().encoding, UTF_8);
    // UTF-8 text in the start decides: a later legacy byte is that row's problem.
    let mixed = [
        "Ørsted;Søren;Århus\n".as_bytes(),
        ascii_rows.as_bytes(),
        &encode(WINDOWS_1252, "Ørsted;Søren;Århus\n"),
    ]
    .concat();
    assert_eq!(detect_file(&mixed[..]).unwrap().encoding, UTF_8);
    // Small files are the start only, as before.
    let small = encode(WINDOWS_1252, "Navn\nSøren\n");
    assert_eq!(detect_file(&small[..]).unwrap(), detect(&small));
}
