//! Line items of an order: what was bought, how many, at what price.

use serde_json::{Map, Value};

/// Most lines one order may hold.
const MAX_LINES: usize = 1000;
/// Largest amount in minor units (keeps sums far from overflow).
const MAX_AMOUNT: i64 = i64::MAX / 1024;

/// Validates line items and fills each line's `total` (quantity × unit price, rounded)
/// when it is missing. Quantities may be fractional (2.5 kg).
pub(super) fn line_items(value: &Value) -> Result<Value, String> {
    let items = value
        .as_array()
        .ok_or("must be an array of {name, sku, quantity, unit_price, total}")?;
    if items.len() > MAX_LINES {
        return Err(format!("holds more than {MAX_LINES} lines"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        let obj = item
            .as_object()
            .ok_or(format!("line {n} must be an object"))?;
        if let Some(k) = obj
            .keys()
            .find(|k| !["name", "sku", "quantity", "unit_price", "total"].contains(&k.as_str()))
        {
            return Err(format!("line {n}: unknown key `{k}`"));
        }
        let text = |key: &str, max: usize| -> Result<Option<String>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => {
                    let s = s.trim();
                    if s.chars().count() > max {
                        Err(format!("line {n}: {key} is longer than {max} characters"))
                    } else if s.chars().any(char::is_control) {
                        Err(format!("line {n}: {key} contains a control character"))
                    } else {
                        Ok((!s.is_empty()).then(|| s.to_string()))
                    }
                }
                Some(_) => Err(format!("line {n}: {key} must be text")),
            }
        };
        let name = text("name", 300)?;
        let sku = text("sku", 100)?;
        if name.is_none() && sku.is_none() {
            return Err(format!("line {n}: needs a name or a sku"));
        }
        let quantity = match obj.get("quantity") {
            None | Some(Value::Null) => 1.0,
            Some(v) => v
                .as_f64()
                .filter(|q| q.is_finite() && *q > 0.0 && *q <= 1e9)
                .ok_or(format!("line {n}: quantity must be a number above 0"))?,
        };
        let amount = |key: &str| -> Result<Option<i64>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .filter(|a| (0..=MAX_AMOUNT).contains(a))
                    .map(Some)
                    .ok_or(format!(
                        "line {n}: {key} must be a whole number of minor units (øre, fen, cents) from 0"
                    )),
            }
        };
        let unit_price = amount("unit_price")?;
        let total = match (amount("total")?, unit_price) {
            (Some(t), _) => t,
            (None, Some(p)) => {
                let t = (p as f64 * quantity).round();
                if t > MAX_AMOUNT as f64 {
                    return Err(format!("line {n}: total is too large"));
                }
                t as i64
            }
            (None, None) => return Err(format!("line {n}: needs a unit_price or a total")),
        };
        let mut o = Map::new();
        if let Some(s) = name {
            o.insert("name".into(), s.into());
        }
        if let Some(s) = sku {
            o.insert("sku".into(), s.into());
        }
        o.insert(
            "quantity".into(),
            if quantity.fract() == 0.0 {
                Value::from(quantity as i64)
            } else {
                Value::from(quantity)
            },
        );
        if let Some(p) = unit_price {
            o.insert("unit_price".into(), p.into());
        }
        o.insert("total".into(), total.into());
        out.push(Value::Object(o));
    }
    Ok(Value::Array(out))
}

/// The sum of the lines' totals; None when there are no lines or it overflows.
pub fn lines_total(lines: &Value) -> Option<i64> {
    let items = lines.as_array().filter(|a| !a.is_empty())?;
    items
        .iter()
        .try_fold(0i64, |acc, l| acc.checked_add(l["total"].as_i64()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn totals_are_filled_from_quantity_and_price() {
        let v = line_items(&json!([
            {"name": "Kaffe", "quantity": 2, "unit_price": 4950},
            {"sku": "BAG-1", "quantity": 2.5, "unit_price": 101},
            {"name": "Gift card", "total": 20000}
        ]))
        .unwrap();
        assert_eq!(v[0]["total"], 9900);
        assert_eq!(v[1]["total"], 253);
        assert_eq!(v[2]["quantity"], 1);
        assert_eq!(lines_total(&v), Some(30153));
    }

    #[test]
    fn bad_lines_are_named() {
        let e = line_items(
            &json!([{"name": "a", "total": 1}, {"name": "b", "quantity": -1, "total": 1}]),
        )
        .unwrap_err();
        assert!(e.contains("line 2") && e.contains("quantity"), "{e}");
        let e = line_items(&json!([{"quantity": 1, "total": 5}])).unwrap_err();
        assert!(e.contains("name or a sku"), "{e}");
        let e = line_items(&json!([{"name": "x", "unit_price": 1.5}])).unwrap_err();
        assert!(e.contains("unit_price"), "{e}");
        let e = line_items(&json!([{"name": "x", "total": 1, "colour": "red"}])).unwrap_err();
        assert!(e.contains("colour"), "{e}");
        assert!(line_items(&json!({"name": "x"})).is_err());
        assert_eq!(lines_total(&json!([])), None);
    }
}
