//! The text form of filters: a small recursive-descent parser with positions in errors.

use serde_json::Value;

use super::{bad, Condition, Filter, Op, Related, RelatedTest, MAX_CONDITIONS, MAX_DEPTH};
use crate::Error;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Sym(&'static str),
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, Error> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let quote = c;
            let mut val = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(bad(format!(
                            "unclosed quote starting at column {}",
                            pos + 1
                        )))
                    }
                    Some((_, '\\')) => {
                        if let Some((_, n)) = chars.get(i + 1) {
                            val.push(*n);
                        }
                        i += 2;
                    }
                    Some((_, ch)) if *ch == quote => {
                        i += 1;
                        break;
                    }
                    Some((_, ch)) => {
                        val.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push((pos, Tok::Str(val)));
            continue;
        }
        let two: String = chars[i..].iter().take(2).map(|(_, c)| *c).collect();
        if let Some(sym) = ["!=", "<=", ">=", "^="].into_iter().find(|s| *s == two) {
            out.push((pos, Tok::Sym(sym)));
            i += 2;
            continue;
        }
        if let Some(sym) = ["=", "<", ">", "~", "(", ")", ","]
            .into_iter()
            .find(|s| s.starts_with(c))
        {
            out.push((pos, Tok::Sym(sym)));
            i += 1;
            continue;
        }
        let mut word = String::new();
        while let Some((_, ch)) = chars.get(i) {
            if ch.is_whitespace() || "\"'=!<>~^(),".contains(*ch) {
                break;
            }
            word.push(*ch);
            i += 1;
        }
        if word.is_empty() {
            return Err(bad(format!("unexpected `{c}` at column {}", pos + 1)));
        }
        out.push((pos, Tok::Word(word)));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    conditions: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn col(&self) -> usize {
        self.toks
            .get(self.at)
            .map(|(p, _)| p + 1)
            .unwrap_or(self.len + 1)
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        let yes = self.keyword(kw);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let yes = matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn or(&mut self, depth: usize) -> Result<Filter, Error> {
        let mut items = vec![self.and(depth)?];
        while self.eat_keyword("or") {
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Filter::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, Error> {
        let mut items = vec![self.unary(depth)?];
        while self.eat_keyword("and") {
            items.push(self.unary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Filter::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, Error> {
        if depth > MAX_DEPTH {
            return Err(bad(format!(
                "filter is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        if self.eat_keyword("not") {
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.eat_sym("(") {
            let inner = self.or(depth + 1)?;
            if !self.eat_sym(")") {
                return Err(bad(format!("expected `)` at column {}", self.col())));
            }
            return Ok(inner);
        }
        if let Some(f) = self.related(depth)? {
            return Ok(f);
        }
        self.condition()
    }

    /// The symbol operator at the cursor, if it is one.
    fn comparison(&self) -> Option<Op> {
        Some(match self.peek()? {
            Tok::Sym("=") => Op::Eq,
            Tok::Sym("!=") => Op::Ne,
            Tok::Sym("<") => Op::Lt,
            Tok::Sym("<=") => Op::Lte,
            Tok::Sym(">") => Op::Gt,
            Tok::Sym(">=") => Op::Gte,
            Tok::Sym("~") => Op::Contains,
            Tok::Sym("^=") => Op::StartsWith,
            _ => return None,
        })
    }

    fn next_sym(&self, k: usize, sym: &str) -> bool {
        matches!(self.toks.get(self.at + k), Some((_, Tok::Sym(s))) if *s == sym)
    }

    fn word(&mut self, what: &str) -> Result<String, Error> {
        match self.toks.get(self.at) {
            Some((_, Tok::Word(w))) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => Err(bad(format!("expected {what} at column {}", self.col()))),
        }
    }

    fn close(&mut self) -> Result<(), Error> {
        if self.eat_sym(")") {
            Ok(())
        } else {
            Err(bad(format!("expected `)` at column {}", self.col())))
        }
    }

    fn count_condition(&mut self) -> Result<(), Error> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(bad(format!(
                "filter has more than {MAX_CONDITIONS} conditions"
            )));
        }
        Ok(())
    }

    /// `has deals(…)`, `has no activities(…)`, `count(orders where …) >= 3`,
    /// `sum(orders.total where …) >= 500000`; None when the next condition is plain.
    fn related(&mut self, depth: usize) -> Result<Option<Filter>, Error> {
        let is_word = matches!(self.toks.get(self.at + 1), Some((_, Tok::Word(_))));
        if self.keyword("has") && is_word {
            self.at += 1;
            let none = self.eat_keyword("no");
            let relation = self.word("a related list after `has`, e.g. `has deals`")?;
            self.count_condition()?;
            let filter = if self.eat_sym("(") {
                let f = self.or(depth + 1)?;
                self.close()?;
                f
            } else {
                Filter::And(vec![])
            };
            let test = if none {
                RelatedTest::None
            } else {
                RelatedTest::Any
            };
            return Ok(Some(Filter::Related(Related {
                relation,
                test,
                filter: Box::new(filter),
            })));
        }
        let sum = self.keyword("sum");
        if !(sum || self.keyword("count")) || !self.next_sym(1, "(") {
            return Ok(None);
        }
        self.at += 2;
        self.count_condition()?;
        let target = self.word(if sum {
            "a related number, e.g. `sum(orders.total)`"
        } else {
            "a related list, e.g. `count(orders)`"
        })?;
        let (relation, field) = if sum {
            match target.split_once('.') {
                Some((r, f)) => (r.to_string(), Some(f.to_string())),
                None => {
                    return Err(bad(format!(
                        "`sum({target})` needs the field summed, e.g. `sum({target}.total)`"
                    )))
                }
            }
        } else {
            (target, None)
        };
        let filter = if self.eat_keyword("where") {
            self.or(depth + 1)?
        } else {
            Filter::And(vec![])
        };
        self.close()?;
        let Some(op) = self
            .comparison()
            .filter(|o| !matches!(o, Op::Contains | Op::StartsWith))
        else {
            return Err(bad(format!(
                "expected a comparison (= != < <= > >=) at column {}",
                self.col()
            )));
        };
        self.at += 1;
        let value = self.value()?;
        let test = match field {
            Some(field) => RelatedTest::Sum { field, op, value },
            None => RelatedTest::Count { op, value },
        };
        Ok(Some(Filter::Related(Related {
            relation,
            test,
            filter: Box::new(filter),
        })))
    }

    fn condition(&mut self) -> Result<Filter, Error> {
        let col = self.col();
        let field = match self.toks.get(self.at) {
            Some((_, Tok::Word(w))) => w.clone(),
            Some((_, t)) => {
                return Err(bad(format!(
                    "expected a field name at column {col}, found {t:?}"
                )))
            }
            None => return Err(bad(format!("expected a field name at column {col}"))),
        };
        self.at += 1;
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(bad(format!(
                "filter has more than {MAX_CONDITIONS} conditions"
            )));
        }
        let op = if self.eat_keyword("is") {
            let negated = self.eat_keyword("not");
            if !self.eat_keyword("empty") {
                return Err(bad(format!(
                    "expected `empty` after `is` at column {}",
                    self.col()
                )));
            }
            if negated {
                Op::IsNotEmpty
            } else {
                Op::IsEmpty
            }
        } else if self.eat_keyword("has") {
            if self.eat_keyword("not") {
                Op::HasNot
            } else {
                Op::Has
            }
        } else if self.eat_keyword("in") {
            Op::In
        } else if self.keyword("not") {
            self.at += 1;
            if !self.eat_keyword("in") {
                return Err(bad(format!(
                    "expected `in` after `not` at column {}",
                    self.col()
                )));
            }
            Op::NotIn
        } else {
            let Some(op) = self.comparison() else {
                return Err(bad(format!(
                    "expected an operator (= != < <= > >= ~ ^= in has is) after `{field}` at column {}",
                    self.col()
                )));
            };
            self.at += 1;
            op
        };
        let values = match op {
            Op::IsEmpty | Op::IsNotEmpty => vec![],
            Op::In | Op::NotIn => {
                if !self.eat_sym("(") {
                    return Err(bad(format!(
                        "expected `(` after `in` at column {}",
                        self.col()
                    )));
                }
                let mut vals = vec![self.value()?];
                while self.eat_sym(",") {
                    vals.push(self.value()?);
                }
                if !self.eat_sym(")") {
                    return Err(bad(format!("expected `)` at column {}", self.col())));
                }
                vals
            }
            _ => vec![self.value()?],
        };
        Ok(Filter::Cond(Condition { field, op, values }))
    }

    fn value(&mut self) -> Result<Value, Error> {
        let col = self.col();
        let v = match self.toks.get(self.at) {
            Some((_, Tok::Str(s))) => Value::String(s.clone()),
            Some((_, Tok::Word(w))) => word_value(w),
            _ => return Err(bad(format!("expected a value at column {col}"))),
        };
        self.at += 1;
        Ok(v)
    }
}

/// Bare words are numbers, booleans, null or strings.
fn word_value(w: &str) -> Value {
    match w {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = w.parse::<i64>() {
        return Value::from(i);
    }
    if w.contains('.') {
        if let Ok(f) = w.parse::<f64>() {
            if f.is_finite() {
                return Value::from(f);
            }
        }
    }
    Value::String(w.to_string())
}

/// Parses the text form of a filter.
pub(super) fn parse(s: &str) -> Result<Filter, Error> {
    if s.len() > 10_000 {
        return Err(bad("filter is longer than 10000 characters"));
    }
    let toks = lex(s)?;
    if toks.is_empty() {
        return Ok(Filter::And(vec![]));
    }
    let mut p = Parser {
        toks,
        at: 0,
        conditions: 0,
        len: s.len(),
    };
    let f = p.or(0)?;
    if p.at < p.toks.len() {
        return Err(bad(format!("unexpected text at column {}", p.col())));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_form_reads_like_a_sentence() {
        let f = parse(r#"lifecycle_stage = customer and (city = "Århus" or tags has vip) and created_at > -90d"#)
            .unwrap();
        assert_eq!(
            f.to_json(),
            json!({"and": [
                {"field": "lifecycle_stage", "op": "eq", "value": "customer"},
                {"or": [
                    {"field": "city", "op": "eq", "value": "Århus"},
                    {"field": "tags", "op": "has", "value": "vip"}
                ]},
                {"field": "created_at", "op": "gt", "value": "-90d"}
            ]})
        );
    }

    #[test]
    fn json_and_text_forms_agree() {
        let t = parse("employees >= 50 and not email is empty and country in (DK, CN)").unwrap();
        let j = Filter::from_json(&t.to_json()).unwrap();
        assert_eq!(t, j);
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = parse("city = ").unwrap_err();
        assert!(e.message.contains("column 8"), "{}", e.message);
        let e = parse("city Aarhus").unwrap_err();
        assert!(e.message.contains("operator"), "{}", e.message);
        let e = parse("(city = x").unwrap_err();
        assert!(e.message.contains("`)`"), "{}", e.message);
        assert!(parse("city = \"open").is_err());
    }

    #[test]
    fn sql_looking_text_is_just_a_value() {
        let f = parse("last_name = \"x'; DROP TABLE contacts; --\"").unwrap();
        let Filter::Cond(c) = f else { panic!() };
        assert_eq!(c.values, vec![json!("x'; DROP TABLE contacts; --")]);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let s = format!("{}city = x{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&s).is_err());
        let mut v = json!({"field": "city", "op": "eq", "value": "x"});
        for _ in 0..100 {
            v = json!({"not": v});
        }
        assert!(Filter::from_json(&v).is_err());
    }

    #[test]
    fn related_records_read_like_a_sentence() {
        let f = parse(
            "company.employees >= 50 and has deals(status = open and stage_id = 7) \
             and has no activities(occurred_at > -60d) \
             and sum(orders.total where ordered_at > -90d) >= 500000 and count(orders) > 2",
        )
        .unwrap();
        assert_eq!(
            f.to_json(),
            json!({"and": [
                {"field": "company.employees", "op": "gte", "value": 50},
                {"related": "deals", "test": "any", "where": {"and": [
                    {"field": "status", "op": "eq", "value": "open"},
                    {"field": "stage_id", "op": "eq", "value": 7}
                ]}},
                {"related": "activities", "test": "none", "where":
                    {"field": "occurred_at", "op": "gt", "value": "-60d"}},
                {"related": "orders", "test": "sum", "field": "total", "op": "gte", "value": 500000,
                 "where": {"field": "ordered_at", "op": "gt", "value": "-90d"}},
                {"related": "orders", "test": "count", "op": "gt", "value": 2}
            ]})
        );
        assert_eq!(super::super::Filter::from_json(&f.to_json()).unwrap(), f);
        for (bad, says) in [
            ("sum(orders) > 1", "orders.total"),
            ("count(orders where total > 1 > 2", "`)`"),
            ("count(orders) ~ 2", "comparison"),
            ("has (x = 1)", "after `has`"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
