//! The template parser: text with `{{ value }}` and `{% if %}` tags, errors with line:col.

use super::{Filter, Node, Template, TemplateError};

/// The filters a template may use, for error messages.
const FILTERS: &str = "default, upcase, downcase, capitalize or date";

pub(super) fn parse(src: &str) -> Result<Template, TemplateError> {
    let mut p = Parser { src, pos: 0 };
    let (nodes, end) = p.block()?;
    match end {
        End::Eof => {}
        End::Else(at) => return Err(p.error(at, "`{% else %}` without an `{% if %}` before it")),
        End::Endif(at) => return Err(p.error(at, "`{% endif %}` without an `{% if %}` before it")),
    }
    let text_len = text_len(&nodes);
    Ok(Template { nodes, text_len })
}

fn text_len(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            Node::Text(t) => t.len(),
            Node::Value { .. } => 0,
            Node::If {
                then, otherwise, ..
            } => text_len(then).max(text_len(otherwise)),
        })
        .sum()
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

/// What ended a block: the end of the template, or an `else`/`endif` tag at this offset.
enum End {
    Eof,
    Else(usize),
    Endif(usize),
}

/// One token inside a tag, with its byte offset in the template.
#[derive(Debug)]
enum Token<'a> {
    Word(&'a str),
    Str(String),
    Pipe,
    Colon,
}

impl<'a> Parser<'a> {
    fn error(&self, at: usize, message: impl Into<String>) -> TemplateError {
        let before = &self.src[..at.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        TemplateError {
            line,
            column,
            message: message.into(),
        }
    }

    fn block(&mut self) -> Result<(Vec<Node>, End), TemplateError> {
        let mut nodes = Vec::new();
        loop {
            let rest = &self.src[self.pos..];
            // One scan for either opening: looking for `{{` and `{%` apart reads the
            // whole rest each time for the one that is absent (quadratic in long text).
            let next = rest
                .match_indices('{')
                .map(|(i, _)| i)
                .find(|i| rest[i + 1..].starts_with(['{', '%']));
            let Some(rel) = next else {
                if !rest.is_empty() {
                    nodes.push(Node::Text(rest.to_string()));
                }
                self.pos = self.src.len();
                return Ok((nodes, End::Eof));
            };
            if rel > 0 {
                nodes.push(Node::Text(rest[..rel].to_string()));
            }
            let start = self.pos + rel;
            let is_value = self.src[start..].starts_with("{{");
            let close = if is_value { "}}" } else { "%}" };
            let inner_start = start + 2;
            let inner_end = self
                .find_close(inner_start, close)
                .ok_or_else(|| self.error(start, format!("unclosed tag: expected `{close}`")))?;
            self.pos = inner_end + 2;
            let tokens = self.tokens(inner_start, inner_end)?;
            if is_value {
                nodes.push(self.value(start, inner_end, &tokens)?);
                continue;
            }
            match tokens.first() {
                Some((_, Token::Word("if"))) => {
                    let path = match tokens.get(1) {
                        Some((at, Token::Word(w))) if tokens.len() == 2 => self.path(*at, w)?,
                        Some((at, _)) => return Err(self.error(
                            *at,
                            "expected one variable after `if`, e.g. `{% if contact.first_name %}`",
                        )),
                        None => return Err(self.error(inner_end, "expected a variable after `if`")),
                    };
                    let (then, end) = self.block()?;
                    let otherwise = match end {
                        End::Eof => {
                            return Err(
                                self.error(start, "unclosed `{% if %}`: expected `{% endif %}`")
                            )
                        }
                        End::Endif(_) => Vec::new(),
                        End::Else(_) => match self.block()? {
                            (nodes, End::Endif(_)) => nodes,
                            (_, End::Else(at)) => {
                                return Err(
                                    self.error(at, "a second `{% else %}`: expected `{% endif %}`")
                                )
                            }
                            (_, End::Eof) => {
                                return Err(self
                                    .error(start, "unclosed `{% if %}`: expected `{% endif %}`"))
                            }
                        },
                    };
                    nodes.push(Node::If {
                        path,
                        then,
                        otherwise,
                    });
                }
                Some((_, Token::Word("else"))) if tokens.len() == 1 => {
                    return Ok((nodes, End::Else(start)))
                }
                Some((_, Token::Word("endif"))) if tokens.len() == 1 => {
                    return Ok((nodes, End::Endif(start)))
                }
                Some((at, _)) => return Err(self.error(*at, "expected `if`, `else` or `endif`")),
                None => return Err(self.error(inner_start, "expected `if`, `else` or `endif`")),
            }
        }
    }

    /// The offset of `close` after `from`, skipping quoted strings.
    fn find_close(&self, from: usize, close: &str) -> Option<usize> {
        let mut quote = None;
        for (i, c) in self.src[from..].char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if self.src[from + i..].starts_with(close) => return Some(from + i),
                None => {}
            }
        }
        None
    }

    fn tokens(&self, from: usize, to: usize) -> Result<Vec<(usize, Token<'a>)>, TemplateError> {
        let src: &'a str = self.src;
        let mut out = Vec::new();
        let mut i = from;
        while i < to {
            let c = src[i..].chars().next().unwrap_or(' ');
            if c.is_whitespace() {
                i += c.len_utf8();
            } else if c == '|' {
                out.push((i, Token::Pipe));
                i += 1;
            } else if c == ':' {
                out.push((i, Token::Colon));
                i += 1;
            } else if c == '"' || c == '\'' {
                let end = src[i + 1..to]
                    .find(c)
                    .map(|e| i + 1 + e)
                    .ok_or_else(|| self.error(i, format!("unclosed string: expected `{c}`")))?;
                out.push((i, Token::Str(src[i + 1..end].to_string())));
                i = end + 1;
            } else if c.is_alphanumeric() || c == '_' || c == '.' {
                let len = src[i..to]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .unwrap_or(to - i);
                out.push((i, Token::Word(&src[i..i + len])));
                i += len;
            } else {
                return Err(self.error(i, format!("unexpected `{c}`")));
            }
        }
        Ok(out)
    }

    fn path(&self, at: usize, word: &str) -> Result<Vec<String>, TemplateError> {
        let segs: Vec<String> = word.split('.').map(str::to_string).collect();
        if segs.iter().any(String::is_empty) {
            return Err(self.error(
                at,
                format!("`{word}` is not a variable: expected names joined by dots, e.g. contact.first_name"),
            ));
        }
        Ok(segs)
    }

    fn value(
        &self,
        start: usize,
        end: usize,
        tokens: &[(usize, Token<'_>)],
    ) -> Result<Node, TemplateError> {
        let mut it = tokens.iter().peekable();
        let path = match it.next() {
            Some((at, Token::Word(w))) => self.path(*at, w)?,
            Some((at, _)) => {
                return Err(self.error(*at, "expected a variable, e.g. `{{ contact.first_name }}`"))
            }
            None => return Err(self.error(start, "empty `{{ }}`: expected a variable")),
        };
        let mut filters = Vec::new();
        while let Some((at, tok)) = it.next() {
            if !matches!(tok, Token::Pipe) {
                return Err(self.error(*at, "expected `|` and a filter, or `}}`"));
            }
            let (name_at, name) = match it.next() {
                Some((a, Token::Word(w))) => (*a, *w),
                Some((a, _)) => return Err(self.error(*a, format!("expected a filter: {FILTERS}"))),
                None => {
                    return Err(self.error(end, format!("expected a filter after `|`: {FILTERS}")))
                }
            };
            let arg = if matches!(it.peek(), Some((_, Token::Colon))) {
                let (colon_at, _) = it.next().expect("peeked");
                match it.next() {
                    Some((_, Token::Str(s))) => Some(s.clone()),
                    Some((a, _)) => {
                        return Err(self.error(*a, "expected a quoted text, e.g. \"there\""))
                    }
                    None => return Err(self.error(*colon_at, "expected a quoted text after `:`")),
                }
            } else {
                None
            };
            filters.push(self.filter(name_at, name, arg)?);
        }
        Ok(Node::Value { path, filters })
    }

    fn filter(&self, at: usize, name: &str, arg: Option<String>) -> Result<Filter, TemplateError> {
        let needs_arg = |what: &str| self.error(at, format!("`{name}` needs {what}"));
        let no_arg = |f: Filter| match arg {
            Some(_) => Err(self.error(at, format!("`{name}` takes no argument"))),
            None => Ok(f),
        };
        match name {
            "default" => {
                Ok(Filter::Default(arg.ok_or_else(|| {
                    needs_arg("a text, e.g. default: \"there\"")
                })?))
            }
            "date" => {
                let fmt = arg.ok_or_else(|| needs_arg("a format, e.g. date: \"%d.%m.%Y\""))?;
                let bad = chrono::format::StrftimeItems::new(&fmt)
                    .any(|i| matches!(i, chrono::format::Item::Error));
                if bad {
                    return Err(self.error(
                        at,
                        format!("`{fmt}` is not a date format, e.g. \"%d.%m.%Y\""),
                    ));
                }
                Ok(Filter::Date(fmt))
            }
            "upcase" => no_arg(Filter::Upcase),
            "downcase" => no_arg(Filter::Downcase),
            "capitalize" => no_arg(Filter::Capitalize),
            other => Err(self.error(at, format!("unknown filter `{other}`: expected {FILTERS}"))),
        }
    }
}
