//! Lists: a resolved filter, quick-search terms, a sort and a cursor compiled into one
//! parameterised query per backend.

use kith_core::filter::{FieldRef, Measure, Op, Resolved};
use kith_core::listing::Cursor;
use kith_core::objects::{ObjectKind, Relation};
use kith_core::{Scalar, ScalarType};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Dialect, Exec, Sql};
use crate::records::{decode, load_tags, select_columns, Record};
use crate::{Error, WorkspaceId};

/// What a list asks for.
#[derive(Debug, Clone)]
pub struct ListSpec {
    /// Filter, already checked against the object.
    pub filter: Option<Resolved>,
    /// Quick-search terms (all must match as prefixes).
    pub terms: Vec<String>,
    /// Sort field.
    pub sort: FieldRef,
    /// Descending?
    pub desc: bool,
    /// Start after this row.
    pub cursor: Option<Cursor>,
    /// Page size.
    pub limit: u32,
    /// List the recycle bin instead of live records.
    pub deleted: bool,
}

/// SQL for the value a field ref reads, typed for comparison on `dialect`.
fn expr(sql: &mut Sql, dialect: Dialect, field: &FieldRef) {
    match field {
        FieldRef::Column { name, .. } => {
            sql.push("t.").push(name);
        }
        FieldRef::Tags => {
            sql.push("NULL");
        }
        FieldRef::Json {
            column,
            key,
            ty,
            money,
            ..
        } => {
            let key = Scalar::Text(key.clone());
            match dialect {
                // SQLite's ->> returns SQL values of the JSON's own type: no casts needed.
                Dialect::Sqlite => {
                    sql.push("(t.").push(column);
                    if *money {
                        sql.push(" -> ").bind(key).push(" ->> 'amount')");
                    } else {
                        sql.push(" ->> ").bind(key).push(")");
                    }
                }
                Dialect::Postgres => {
                    sql.push("((t.").push(column);
                    if *money {
                        sql.push(" -> ").bind(key).push(") ->> 'amount')");
                    } else {
                        sql.push(" ->> ").bind(key).push("))");
                    }
                    sql.push(match ty {
                        ScalarType::Int => "::bigint",
                        ScalarType::Float => "::double precision",
                        ScalarType::Bool => "::boolean",
                        ScalarType::Date => "::date",
                        _ => " COLLATE \"C\"",
                    });
                }
            }
        }
    }
}

fn like_pattern(s: &str, prefix_only: bool) -> String {
    let mut p = String::new();
    if !prefix_only {
        p.push('%');
    }
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

pub(crate) fn compile(sql: &mut Sql, dialect: Dialect, ws: WorkspaceId, f: &Resolved) {
    compile_for(sql, dialect, ws, f, None)
}

/// Compiles a filter; with `pin`, for the one record `pin` only: sets of related
/// records are then read for that record alone (its orders, not every customer's),
/// which keeps re-checking a record after a write cheap however large the workspace.
pub(crate) fn compile_for(
    sql: &mut Sql,
    dialect: Dialect,
    ws: WorkspaceId,
    f: &Resolved,
    pin: Option<Uuid>,
) {
    match f {
        Resolved::And(items) | Resolved::Or(items) if items.is_empty() => {
            sql.push(if matches!(f, Resolved::And(_)) {
                "1 = 1"
            } else {
                "1 = 0"
            });
        }
        Resolved::And(items) | Resolved::Or(items) => {
            let joiner = if matches!(f, Resolved::And(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sql.push(joiner);
                }
                compile_for(sql, dialect, ws, item, pin);
            }
            sql.push(")");
        }
        Resolved::Not(inner) => {
            sql.push("NOT (");
            compile_for(sql, dialect, ws, inner, pin);
            sql.push(")");
        }
        Resolved::Cond { field, op, values } => condition(sql, dialect, ws, field, *op, values),
        Resolved::Related {
            link,
            measure,
            filter,
        } => related(sql, dialect, ws, link, measure, filter, pin),
    }
}

/// A test on related records. Mostly an uncorrelated `IN (SELECT …)`: the subquery
/// names its table `t` as well, so the inner filter compiles exactly like a top-level
/// one, and both backends run it once as a semi-join instead of once per row.
/// PostgreSQL turns a `NOT IN` over a large set into a per-row scan when the set does
/// not fit in memory, so there the negated form is a `NOT EXISTS` over a derived table
/// (which it plans as a hash anti-join); the derived table keeps the inner `t` apart
/// from the outer one.
fn related(
    sql: &mut Sql,
    dialect: Dialect,
    ws: WorkspaceId,
    link: &Relation,
    measure: &Measure,
    filter: &Resolved,
    pin: Option<Uuid>,
) {
    let (outer, inner) = if link.many {
        ("id", link.key)
    } else {
        (link.key, "id")
    };
    // Counting and summing need the records with none passing too: those hold when a
    // zero holds, so the test is written as "not among those where it fails".
    let negate = measure.holds_for_zero();
    let mut set = Sql::new("SELECT t.");
    set.push(inner).push(" AS k FROM ");
    set.push(link.target.table())
        .push(" t WHERE t.workspace_id = ");
    set.bind(Scalar::Uuid(ws.0));
    set.push(" AND t.deleted_at IS NULL AND t.")
        .push(inner)
        .push(" IS NOT NULL AND ");
    if let Some(id) = pin.filter(|_| link.many) {
        set.push("t.")
            .push(inner)
            .push(" = ")
            .bind(Scalar::Uuid(id))
            .push(" AND ");
    }
    compile(&mut set, dialect, ws, filter);
    let cmp = |sql: &mut Sql, op: Op, value: i64, negate: bool| {
        let sym = match (op, negate) {
            (Op::Eq, false) | (Op::Ne, true) => " = ",
            (Op::Ne, false) | (Op::Eq, true) => " <> ",
            (Op::Lt, false) | (Op::Gte, true) => " < ",
            (Op::Lte, false) | (Op::Gt, true) => " <= ",
            (Op::Gt, false) | (Op::Lte, true) => " > ",
            _ => " >= ",
        };
        sql.push(sym).bind(Scalar::Int(value));
    };
    match measure {
        Measure::Any | Measure::None => {}
        Measure::Count(op, value) => {
            set.push(" GROUP BY t.")
                .push(inner)
                .push(" HAVING COUNT(*)");
            cmp(&mut set, *op, *value, negate);
        }
        Measure::Sum { column, op, value } => {
            set.push(" GROUP BY t.")
                .push(inner)
                .push(" HAVING COALESCE(SUM(t.")
                .push(column)
                .push("), 0)");
            cmp(&mut set, *op, *value, negate);
        }
    }
    sql.push("(");
    if !link.many && negate {
        sql.push("t.").push(outer).push(" IS NULL OR ");
    }
    if negate && dialect == Dialect::Postgres {
        sql.push("NOT EXISTS (SELECT 1 FROM (");
        sql.append(set);
        sql.push(") r WHERE r.k = t.").push(outer).push(")");
    } else {
        sql.push("t.").push(outer);
        sql.push(if negate { " NOT IN (" } else { " IN (" });
        sql.append(set);
        sql.push(")");
    }
    // A record without the link (no company) is simply not in the set, also under NOT.
    if !link.many && !negate {
        sql.push(" AND t.").push(outer).push(" IS NOT NULL");
    }
    sql.push(")");
}

fn condition(
    sql: &mut Sql,
    dialect: Dialect,
    ws: WorkspaceId,
    field: &FieldRef,
    op: Op,
    values: &[Scalar],
) {
    let first = || {
        values
            .first()
            .cloned()
            .unwrap_or(Scalar::Null(ScalarType::Text))
    };
    if let FieldRef::Tags = field {
        match op {
            Op::Has | Op::HasNot => {
                sql.push(if op == Op::Has {
                    "EXISTS"
                } else {
                    "NOT EXISTS"
                });
                sql.push(" (SELECT 1 FROM taggings g JOIN tags tg ON tg.id = g.tag_id WHERE g.record_id = t.id AND g.workspace_id = ");
                sql.bind(Scalar::Uuid(ws.0))
                    .push(" AND tg.deleted_at IS NULL AND tg.name = ")
                    .bind(first())
                    .push(")");
            }
            _ => {
                sql.push(if op == Op::IsEmpty {
                    "NOT EXISTS"
                } else {
                    "EXISTS"
                });
                sql.push(" (SELECT 1 FROM taggings g WHERE g.record_id = t.id)");
            }
        }
        return;
    }
    if let FieldRef::Json {
        column,
        key,
        array: true,
        ..
    } = field
    {
        let key = Scalar::Text(key.clone());
        match op {
            Op::Has | Op::HasNot => {
                if op == Op::HasNot {
                    sql.push("NOT ");
                }
                match dialect {
                    Dialect::Sqlite => {
                        sql.push("EXISTS (SELECT 1 FROM json_each(t.")
                            .push(column)
                            .push(", '$.' || ");
                        sql.bind(key)
                            .push(") WHERE value = ")
                            .bind(first())
                            .push(")");
                    }
                    Dialect::Postgres => {
                        sql.push("COALESCE((t.")
                            .push(column)
                            .push(" -> ")
                            .bind(key)
                            .push(") ? ");
                        sql.bind(first()).push(", FALSE)");
                    }
                }
            }
            _ => {
                let empty = op == Op::IsEmpty;
                match dialect {
                    Dialect::Sqlite => {
                        sql.push("COALESCE(json_array_length(t.");
                        sql.push(column).push(", '$.' || ").bind(key).push("), 0)");
                    }
                    Dialect::Postgres => {
                        sql.push("COALESCE(jsonb_array_length(CASE WHEN jsonb_typeof(t.")
                            .push(column)
                            .push(" -> ");
                        sql.bind(key.clone())
                            .push(") = 'array' THEN t.")
                            .push(column)
                            .push(" -> ")
                            .bind(key);
                        sql.push(" END), 0)");
                    }
                }
                sql.push(if empty { " = 0" } else { " > 0" });
            }
        }
        return;
    }
    let text = field.scalar_type() == ScalarType::Text;
    match op {
        Op::IsEmpty | Op::IsNotEmpty => {
            let empty = op == Op::IsEmpty;
            sql.push("(");
            expr(sql, dialect, field);
            sql.push(if empty { " IS NULL" } else { " IS NOT NULL" });
            if text {
                sql.push(if empty { " OR " } else { " AND " });
                expr(sql, dialect, field);
                sql.push(if empty { " = ''" } else { " <> ''" });
            }
            sql.push(")");
        }
        Op::Contains | Op::StartsWith => {
            let Scalar::Text(s) = first() else {
                return sql_false(sql);
            };
            sql.push("lower(");
            expr(sql, dialect, field);
            sql.push(") LIKE ")
                .bind(Scalar::Text(like_pattern(&s, op == Op::StartsWith)))
                .push(" ESCAPE '\\'");
        }
        Op::Eq | Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
            let sym = match op {
                Op::Eq => " = ",
                Op::Lt => " < ",
                Op::Lte => " <= ",
                Op::Gt => " > ",
                _ => " >= ",
            };
            expr(sql, dialect, field);
            sql.push(sym).bind(first());
        }
        // "city != Aarhus" includes contacts with no city, as people expect.
        Op::Ne => {
            sql.push("(");
            expr(sql, dialect, field);
            sql.push(" IS NULL OR ");
            expr(sql, dialect, field);
            sql.push(" <> ").bind(first()).push(")");
        }
        Op::In | Op::NotIn => {
            sql.push("(");
            if op == Op::NotIn {
                expr(sql, dialect, field);
                sql.push(" IS NULL OR ");
            }
            expr(sql, dialect, field);
            sql.push(if op == Op::In { " IN (" } else { " NOT IN (" });
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(v.clone());
            }
            sql.push("))");
        }
        Op::Has | Op::HasNot => sql_false(sql),
    }
}

fn sql_false(sql: &mut Sql) {
    sql.push("1 = 0");
}

/// The sort value of `rec` that a cursor carries.
fn sort_value(rec: &Record, field: &FieldRef) -> Value {
    match field {
        FieldRef::Column { name, .. } => match *name {
            "id" => Value::String(rec.id.to_string()),
            "version" => rec.version.into(),
            "created_at" => Scalar::Time(rec.created_at).to_json(),
            "updated_at" => Scalar::Time(rec.updated_at).to_json(),
            n => rec.get(n).map(Scalar::to_json).unwrap_or(Value::Null),
        },
        FieldRef::Json { key, money, .. } => {
            let v = rec.custom.get(key).cloned().unwrap_or(Value::Null);
            if *money {
                v.get("amount").cloned().unwrap_or(Value::Null)
            } else {
                v
            }
        }
        FieldRef::Tags => Value::Null,
    }
}

/// Types a cursor's sort value for binding; None when the cursor does not fit the sort.
fn cursor_scalar(v: &Value, ty: ScalarType) -> Option<Scalar> {
    if v.is_null() {
        return Some(Scalar::Null(ty));
    }
    Some(match ty {
        ScalarType::Text => Scalar::Text(v.as_str()?.to_string()),
        ScalarType::Int => Scalar::Int(v.as_i64()?),
        ScalarType::Float => Scalar::Float(v.as_f64()?),
        ScalarType::Bool => Scalar::Bool(v.as_bool()?),
        ScalarType::Uuid => Scalar::Uuid(Uuid::parse_str(v.as_str()?).ok()?),
        ScalarType::Date => Scalar::Date(kith_core::fields::date(v.as_str()?).ok()?),
        ScalarType::Time => Scalar::Time(kith_core::fields::datetime(v.as_str()?).ok()?),
        ScalarType::Json => return None,
    })
}

/// One page of records and the cursor of the next page (None on the last page).
pub async fn list(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    object: ObjectKind,
    spec: &ListSpec,
) -> Result<(Vec<Record>, Option<Cursor>), Error> {
    let dialect = ex.dialect();
    let mut sql = Sql::new("SELECT ");
    sql.push(&select_columns(object)).push(" FROM ");
    if !spec.terms.is_empty() {
        // Search drives the query: the few matching ids first, then their rows. (Written
        // as CROSS JOIN because SQLite then keeps this order; PostgreSQL plans it freely.)
        sql.push("(");
        for (i, term) in spec.terms.iter().enumerate() {
            if i > 0 {
                sql.push(" INTERSECT ");
            }
            let hi = format!("{term}{}", char::MAX);
            sql.push("SELECT DISTINCT s.doc FROM search_terms s WHERE ");
            crate::search::index::push_scope(&mut sql, "s.scope", ws, object);
            sql.push(" AND s.term >= ").bind(Scalar::Text(term.clone()));
            sql.push(" AND s.term < ").bind(Scalar::Text(hi));
        }
        sql.push(") m CROSS JOIN search_docs x CROSS JOIN ")
            .push(object.table())
            .push(" t WHERE x.doc = m.doc AND t.id = x.record_id AND t.workspace_id = ");
    } else {
        sql.push(object.table()).push(" t WHERE t.workspace_id = ");
    }
    sql.bind(Scalar::Uuid(ws.0));
    sql.push(if spec.deleted {
        " AND t.deleted_at IS NOT NULL"
    } else {
        " AND t.deleted_at IS NULL"
    });
    if let Some(f) = &spec.filter {
        sql.push(" AND ");
        compile(&mut sql, dialect, ws, f);
    }
    let (cmp, dir) = if spec.desc {
        (" < ", " DESC")
    } else {
        (" > ", "")
    };
    // Columns that are never NULL sort and page on their index: a plain ORDER BY and a
    // row-value comparison. Nullable ones need the NULLs-last dance, which both backends
    // answer alike but only by sorting.
    let not_null = match &spec.sort {
        FieldRef::Column { name, .. } => {
            ["id", "version", "created_at", "updated_at"].contains(name)
                || object.field(name).is_some_and(|f| f.required)
        }
        _ => false,
    };
    if let Some(c) = &spec.cursor {
        let bad = || {
            Error::Invalid(kith_core::Error::new(
                "cursor_invalid",
                "cursor was made for another sort order",
            ))
        };
        let v = cursor_scalar(&c.value, spec.sort.scalar_type()).ok_or_else(bad)?;
        let id = Scalar::Uuid(c.id);
        sql.push(" AND (");
        if not_null {
            if v.is_null() {
                return Err(bad());
            }
            sql.push("(");
            expr(&mut sql, dialect, &spec.sort);
            sql.push(", t.id)")
                .push(cmp)
                .push("(")
                .bind(v)
                .push(", ")
                .bind(id)
                .push("))");
        } else if v.is_null() {
            expr(&mut sql, dialect, &spec.sort);
            sql.push(" IS NULL AND t.id").push(cmp).bind(id).push(")");
        } else if !spec.desc {
            // Same order as ORDER BY below, as one row value: an index on
            // (workspace_id, (col IS NULL), col, id) answers it with a range scan.
            sql.push("((");
            expr(&mut sql, dialect, &spec.sort);
            sql.push(" IS NULL), ");
            expr(&mut sql, dialect, &spec.sort);
            sql.push(", t.id) > (")
                .bind(Scalar::Bool(false))
                .push(", ")
                .bind(v);
            sql.push(", ").bind(id).push("))");
        } else {
            expr(&mut sql, dialect, &spec.sort);
            sql.push(" IS NULL OR ");
            expr(&mut sql, dialect, &spec.sort);
            sql.push(cmp).bind(v.clone()).push(" OR (");
            expr(&mut sql, dialect, &spec.sort);
            sql.push(" = ")
                .bind(v)
                .push(" AND t.id")
                .push(cmp)
                .bind(id)
                .push("))");
        }
    }
    sql.push(" ORDER BY ");
    if !not_null {
        // NULLs last in both directions, on both backends.
        sql.push("(");
        expr(&mut sql, dialect, &spec.sort);
        sql.push(" IS NULL), ");
    }
    expr(&mut sql, dialect, &spec.sort);
    sql.push(dir).push(", t.id").push(dir);
    sql.push(" LIMIT ")
        .bind(Scalar::Int(i64::from(spec.limit) + 1));
    let rows = ex.fetch_all(sql).await?;
    let mut records = rows
        .iter()
        .map(|r| decode(object, r))
        .collect::<Result<Vec<_>, _>>()?;
    let next = if records.len() > spec.limit as usize {
        records.truncate(spec.limit as usize);
        records.last().map(|r| Cursor {
            value: sort_value(r, &spec.sort),
            id: r.id,
        })
    } else {
        None
    };
    if object.is_customisable() {
        load_tags(ex, ws, &mut records).await?;
    }
    Ok((records, next))
}
