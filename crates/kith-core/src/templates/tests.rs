use serde_json::json;

use super::*;

fn ctx() -> Value {
    json!({
        "contact": {"first_name": "Søren", "last_name": "<b>Kierkegaard</b>", "birthday": "1813-05-05",
                    "signed_up_at": "2026-03-04T10:20:00Z", "score": 42, "vip": false},
        "company": {"name": "Æblegård & Søn"},
        "user": {"name": "王小明", "email": "wang@example.com"},
        "unsubscribe_url": "https://kith.example/u/abc?x=1&y=2"
    })
}

fn render(src: &str) -> String {
    Template::parse(src).unwrap().render_text(&ctx())
}

#[test]
fn inserts_values_by_dotted_path() {
    assert_eq!(render("Hej {{ contact.first_name }}!"), "Hej Søren!");
    assert_eq!(render("{{company.name}}"), "Æblegård & Søn");
    assert_eq!(render("{{ contact.score }}"), "42");
    assert_eq!(render("{{ user.name }}向您问好"), "王小明向您问好");
}

#[test]
fn unknown_variables_render_empty() {
    assert_eq!(
        render("[{{ contact.nickname }}][{{ nope.deeper.still }}]"),
        "[][]"
    );
}

#[test]
fn html_render_escapes_values_but_not_markup() {
    let t = Template::parse("<p>{{ contact.last_name }} · {{ company.name }}</p>").unwrap();
    assert_eq!(
        t.render_html(&ctx()),
        "<p>&lt;b&gt;Kierkegaard&lt;/b&gt; · Æblegård &amp; Søn</p>"
    );
    assert_eq!(
        t.render_text(&ctx()),
        "<p><b>Kierkegaard</b> · Æblegård & Søn</p>"
    );
}

#[test]
fn default_filter_fills_missing_and_empty_values() {
    assert_eq!(
        render("Hi {{ contact.nickname | default: \"there\" }}"),
        "Hi there"
    );
    assert_eq!(
        render("Hi {{ contact.first_name | default: 'there' }}"),
        "Hi Søren"
    );
    let t = Template::parse("{{ contact.first_name | default: \"朋友\" }}").unwrap();
    assert_eq!(
        t.render_text(&json!({"contact": {"first_name": ""}})),
        "朋友"
    );
}

#[test]
fn case_filters_handle_danish_letters() {
    assert_eq!(render("{{ contact.first_name | upcase }}"), "SØREN");
    assert_eq!(render("{{ company.name | downcase }}"), "æblegård & søn");
    let t = Template::parse("{{ n | capitalize }}").unwrap();
    assert_eq!(t.render_text(&json!({"n": "øRESUND"})), "Øresund");
    assert_eq!(t.render_text(&json!({"n": ""})), "");
}

#[test]
fn date_filter_formats_iso_dates_and_times() {
    assert_eq!(
        render("{{ contact.birthday | date: \"%d.%m.%Y\" }}"),
        "05.05.1813"
    );
    assert_eq!(
        render("{{ contact.signed_up_at | date: \"%Y年%m月%d日 %H:%M\" }}"),
        "2026年03月04日 10:20"
    );
    assert_eq!(
        render("{{ company.name | date: \"%Y\" }}"),
        "Æblegård & Søn"
    );
    // A date has no hour: the value is left as it was rather than half-formatted.
    assert_eq!(
        render("{{ contact.birthday | date: \"%H\" }}"),
        "1813-05-05"
    );
}

#[test]
fn filters_chain_left_to_right() {
    assert_eq!(
        render("{{ contact.nickname | default: \"ven\" | upcase }}"),
        "VEN"
    );
}

#[test]
fn if_else_follows_truthiness() {
    let t = "{% if contact.first_name %}Kære {{ contact.first_name }}{% else %}Hej{% endif %},";
    assert_eq!(render(t), "Kære Søren,");
    let tpl = Template::parse(t).unwrap();
    assert_eq!(
        tpl.render_text(&json!({"contact": {"first_name": ""}})),
        "Hej,"
    );
    assert_eq!(tpl.render_text(&json!({})), "Hej,");
    assert_eq!(render("{% if contact.vip %}VIP{% endif %}."), ".");
    assert_eq!(
        render("{% if contact.score %}{% if user.name %}a{% else %}b{% endif %}{% endif %}"),
        "a"
    );
}

#[test]
fn variables_lists_each_path_once_in_order() {
    let t = Template::parse(
        "{{ contact.first_name }} {% if company.name %}{{ company.name }}{{ contact.first_name }}{% endif %}{{ unsubscribe_url }}",
    )
    .unwrap();
    assert_eq!(
        t.variables(),
        vec!["contact.first_name", "company.name", "unsubscribe_url"]
    );
}

fn err(src: &str) -> TemplateError {
    Template::parse(src).unwrap_err()
}

#[test]
fn unclosed_value_tag_names_its_position() {
    let e = err("Hej\n  {{ contact.first_name ");
    assert_eq!((e.line, e.column), (2, 3));
    assert!(e.message.contains("expected `}}`"), "{e}");
    assert_eq!(e.to_string(), format!("line 2, column 3: {}", e.message));
}

#[test]
fn unknown_filter_names_its_position_and_the_known_ones() {
    let e = err("你好 {{ contact.first_name | shout }}");
    assert_eq!((e.line, e.column), (1, 28));
    assert!(e.message.contains("unknown filter `shout`"), "{e}");
    assert!(e.message.contains("default"), "{e}");
}

#[test]
fn unclosed_if_and_stray_tags_are_errors() {
    let e = err("a\n{% if contact.first_name %}x");
    assert_eq!(
        (e.line, e.column, e.message.contains("endif")),
        (2, 1, true)
    );
    let e = err("x{% endif %}");
    assert_eq!((e.line, e.column), (1, 2));
    let e = err("{% for x in y %}");
    assert!(
        e.message.contains("expected `if`, `else` or `endif`"),
        "{e}"
    );
    let e = err("{% if a %}1{% else %}2{% else %}3{% endif %}");
    assert!(e.message.contains("second"), "{e}");
}

#[test]
fn bad_arguments_are_errors() {
    assert!(err("{{ a | default }}").message.contains("needs"));
    assert!(err("{{ a | upcase: \"x\" }}")
        .message
        .contains("no argument"));
    assert!(err("{{ a | date: \"%Q\" }}")
        .message
        .contains("not a date format"));
    assert!(err("{{ a | default: \"x }}").message.contains("unclosed"));
    assert!(err("{{ }}").message.contains("expected a variable"));
    assert!(err("{{ a..b }}").message.contains("not a variable"));
    assert!(err("{{ a + b }}").message.contains("unexpected `+`"));
}

#[test]
fn braces_in_strings_and_lone_braces_are_text() {
    assert_eq!(
        render("{ not a tag } {{ x | default: \"}}\" }}"),
        "{ not a tag } }}"
    );
}

#[test]
fn html_to_text_keeps_paragraphs_links_and_template_tags() {
    let html = "<html><head><style>p{}</style></head><body><p>Hej {{ contact.first_name }},</p>\
                <p>Se <a href=\"https://x.dk/a?b=1&amp;c=2\">vores tilbud</a> &amp; mere.<br>Mvh</p></body></html>";
    assert_eq!(
        html_to_text(html),
        "Hej {{ contact.first_name }},\n\nSe vores tilbud (https://x.dk/a?b=1&c=2) & mere.\nMvh"
    );
}
