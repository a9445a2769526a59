//! Safe personalisation of emails: a small Liquid-like language that inserts values
//! from a JSON context and nothing else (no loops, no expressions, no code).
//!
//! `{{ contact.first_name | default: "there" }}` inserts a value (dotted path, filters
//! `default`, `upcase`, `downcase`, `capitalize`, `date: "%d.%m.%Y"`);
//! `{% if contact.first_name %}…{% else %}…{% endif %}` tests a value's truthiness.
//! A template is parsed once and rendered many times (a campaign renders it per
//! recipient), so rendering writes into one preallocated string.

mod parse;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

/// A parsed template, ready to render against any number of contexts.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
    /// Bytes of literal text, to size the output buffer once.
    text_len: usize,
}

/// Why a template could not be parsed, and where (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What was expected or wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Value {
        path: Vec<String>,
        filters: Vec<Filter>,
    },
    If {
        path: Vec<String>,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Default(String),
    Upcase,
    Downcase,
    Capitalize,
    /// A chrono format, checked at parse time so rendering cannot fail on it.
    Date(String),
}

/// Whether inserted values are written as they are or HTML-escaped.
#[derive(Clone, Copy, PartialEq)]
enum Escape {
    None,
    Html,
}

impl Template {
    /// Parses a template; an unclosed tag, an unknown filter or a bad path is an error
    /// naming its line and column.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        parse::parse(src)
    }

    /// Renders for a plain-text part: values are inserted as they are.
    pub fn render_text(&self, ctx: &Value) -> String {
        self.render(ctx, Escape::None)
    }

    /// Renders for an HTML part: values are HTML-escaped, the template's own markup is not.
    pub fn render_html(&self, ctx: &Value) -> String {
        self.render(ctx, Escape::Html)
    }

    /// Every variable the template reads, in order of first use, e.g. `contact.first_name`.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_variables(&self.nodes, &mut out);
        out
    }

    fn render(&self, ctx: &Value, escape: Escape) -> String {
        let mut out = String::with_capacity(self.text_len + 64);
        render_nodes(&self.nodes, ctx, escape, &mut out);
        out
    }
}

fn collect_variables(nodes: &[Node], out: &mut Vec<String>) {
    for node in nodes {
        let path = match node {
            Node::Text(_) => continue,
            Node::Value { path, .. } => path,
            Node::If { path, .. } => path,
        };
        let name = path.join(".");
        if !out.contains(&name) {
            out.push(name);
        }
        if let Node::If {
            then, otherwise, ..
        } = node
        {
            collect_variables(then, out);
            collect_variables(otherwise, out);
        }
    }
}

fn render_nodes(nodes: &[Node], ctx: &Value, escape: Escape, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Value { path, filters } => {
                let mut value = scalar_text(lookup(ctx, path));
                for filter in filters {
                    value = apply(filter, value);
                }
                match escape {
                    Escape::None => out.push_str(&value),
                    Escape::Html => push_escaped(out, &value),
                }
            }
            Node::If {
                path,
                then,
                otherwise,
            } => {
                let branch = if truthy(lookup(ctx, path)) {
                    then
                } else {
                    otherwise
                };
                render_nodes(branch, ctx, escape, out);
            }
        }
    }
}

/// Walks a dotted path; a missing step is simply nothing (renders as empty).
fn lookup<'a>(ctx: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(ctx, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// How a value reads as text; objects and arrays have no text form in an email.
fn scalar_text(v: Option<&Value>) -> Cow<'_, str> {
    match v {
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        Some(Value::Bool(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        _ => Cow::Borrowed(""),
    }
}

/// Missing, null, false, empty text and empty lists are false; everything else true.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        _ => true,
    }
}

fn apply<'a>(filter: &'a Filter, value: Cow<'a, str>) -> Cow<'a, str> {
    match filter {
        Filter::Default(d) if value.trim().is_empty() => Cow::Borrowed(d),
        Filter::Default(_) => value,
        Filter::Upcase => Cow::Owned(value.to_uppercase()),
        Filter::Downcase => Cow::Owned(value.to_lowercase()),
        Filter::Capitalize => {
            let mut chars = value.chars();
            match chars.next() {
                Some(first) => {
                    let mut s: String = first.to_uppercase().collect();
                    s.push_str(&chars.as_str().to_lowercase());
                    Cow::Owned(s)
                }
                None => value,
            }
        }
        Filter::Date(fmt) => format_date(&value, fmt).map_or(value, Cow::Owned),
    }
}

/// Formats an ISO date or date-time; anything else is left as it was.
fn format_date(value: &str, fmt: &str) -> Option<String> {
    let v = value.trim();
    let mut out = String::new();
    let ok = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        write!(out, "{}", t.format(fmt))
    } else if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f") {
        write!(out, "{}", t.format(fmt))
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        // A date has no time of day: a format asking for one fails and the value stays.
        write!(out, "{}", d.format(fmt))
    } else {
        return None;
    };
    ok.ok().map(|_| out)
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Plain text from HTML (template source or rendered): tags dropped, line breaks kept
/// for `<br>`, paragraphs and list items, links' addresses kept after their text, the
/// common entities decoded. Template tags `{{ }}`/`{% %}` pass through untouched.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    // Content of these elements is not text a reader sees.
    let mut skip_until: Option<&str> = None;
    let mut link: Option<(String, usize)> = None;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        let Some(gt) = rest[lt..].find('>') else {
            if skip_until.is_none() {
                push_text(&mut out, &rest[lt..]);
            }
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        if let Some(until) = skip_until {
            if closing && name == until {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "style" | "script" | "head" | "title" if !closing => {
                skip_until = Some(match name.as_str() {
                    "style" => "style",
                    "script" => "script",
                    "head" => "head",
                    _ => "title",
                })
            }
            "br" => out.push('\n'),
            "p" | "div" | "h1" | "h2" | "h3" | "h4" | "tr" | "table" | "ul" | "ol" if closing => {
                out.push_str("\n\n")
            }
            "li" if !closing => out.push_str("\n- "),
            "a" if !closing => {
                link = attribute(tag, "href").map(|h| (decode_entities(h), out.len()));
            }
            "a" => {
                // The address follows the link's text, unless the text is the address.
                if let Some((href, start)) = link.take() {
                    if !href.is_empty() && out[start..].trim() != href {
                        out.push_str(" (");
                        out.push_str(&href);
                        out.push(')');
                    }
                }
            }
            _ => {}
        }
    }
    if skip_until.is_none() {
        push_text(&mut out, rest);
    }
    // Collapse runs of blank lines and trailing spaces.
    let mut lines: Vec<&str> = Vec::new();
    for line in out.lines().map(str::trim) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!("{name}="))? + name.len() + 1;
    let rest = &tag[at..];
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        rest[1..].find(quote).map(|e| &rest[1..1 + e])
    } else {
        Some(rest.split_whitespace().next().unwrap_or(""))
    }
}

fn push_text(out: &mut String, s: &str) {
    let mut first = true;
    for word in s.split_whitespace() {
        if !first || (s.starts_with(char::is_whitespace) && !out.ends_with(['\n', ' '])) {
            out.push(' ');
        }
        first = false;
        out.push_str(&decode_entities(word));
    }
    if !first && s.ends_with(char::is_whitespace) {
        out.push(' ');
    }
}

fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
