//! Template rendering speed: one campaign-sized template rendered for 100,000 contexts
//! (text and HTML), as a campaign send does; and parsing a long newsletter whose tags are
//! all values (no `{% %}`). `cargo bench -p kith-core --bench templates`

use std::time::Instant;

use kith_core::templates::Template;
use serde_json::json;

fn main() {
    let src = "<html><body><p>Kære {{ contact.first_name | default: \"ven\" }} {{ contact.last_name }},</p>\
        {% if company.name %}<p>Hos {{ company.name }} har vi noget til jer.</p>{% else %}<p>Vi har noget til dig.</p>{% endif %}\
        <p>Tilbuddet gælder til {{ offer.ends_at | date: \"%d.%m.%Y\" }}.</p>\
        <p>Med venlig hilsen<br>{{ user.name }}</p><p><a href=\"{{ unsubscribe_url }}\">Afmeld</a></p></body></html>";
    let t = Template::parse(src).expect("template parses");
    let n = 100_000;
    let contexts: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "contact": {"first_name": format!("Søren{i}"), "last_name": "Kierkegaard & Søn"},
                "company": if i % 2 == 0 { json!({"name": "Æblegård"}) } else { json!({}) },
                "user": {"name": "王小明"},
                "offer": {"ends_at": "2026-12-24"},
                "unsubscribe_url": format!("https://kith.example/u/{i}"),
            })
        })
        .collect();
    let start = Instant::now();
    let mut bytes = 0;
    for ctx in &contexts {
        bytes += t.render_html(ctx).len();
        bytes += t.render_text(ctx).len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rendered {n} recipients (html + text, {bytes} bytes) in {secs:.3} s: {:.0} recipients/s",
        n as f64 / secs
    );

    // A pasted newsletter: 200 KB of HTML with a value tag every 100 bytes.
    let long = "<p>Hej {{ contact.first_name }}, her er ugens nyheder fra os.</p>\n".repeat(3_000);
    let start = Instant::now();
    let runs = 20;
    for _ in 0..runs {
        Template::parse(&long).expect("long template parses");
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "parsed a {} KB template with 3,000 value tags in {ms:.2} ms",
        long.len() / 1000
    );
}
