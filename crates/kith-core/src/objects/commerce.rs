//! The objects of buying and grouping customers: orders, segments, and the figures that
//! purchases add to contacts and companies.

use super::{f, once, req, ro, FieldSpec, ObjectKind, T};
use crate::fields::Kind;

/// Where an order stands; cancelled and refunded orders count towards no value.
pub const ORDER_STATUSES: &[&str] = &["pending", "paid", "fulfilled", "cancelled", "refunded"];
/// Where an order was placed.
pub const ORDER_CHANNELS: &[&str] = &["online", "store", "phone", "marketplace", "sales", "other"];
/// Objects a segment can group.
pub const SEGMENTABLE: &[&str] = &["contact", "company"];

pub(super) const SCORE: Kind = Kind::Int { min: 1, max: 5 };
const MONEY: Kind = Kind::Int {
    min: 0,
    max: i64::MAX / 4,
};

/// What purchases add to contacts and companies; kept current with every order.
pub(super) const CUSTOMER_VALUE: [FieldSpec; 5] = [
    ro(
        "order_count",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        "Orders placed (not cancelled or refunded).",
    ),
    ro(
        "lifetime_value",
        MONEY,
        "Customer lifetime value: revenue of those orders, minor units.",
    ),
    ro(
        "average_order_value",
        MONEY,
        "Average order value, minor units.",
    ),
    ro(
        "first_order_at",
        Kind::DateTime,
        "When the first order was placed.",
    ),
    ro(
        "last_order_at",
        Kind::DateTime,
        "When the last order was placed.",
    ),
];

pub(super) const ORDER: &[FieldSpec] = &[
    f(
        "number",
        Kind::Text(100),
        "Order number from the shop or ERP; unique in the workspace.",
    ),
    f("contact_id", Kind::Ref(ObjectKind::Contact), "Customer."),
    f(
        "company_id",
        Kind::Ref(ObjectKind::Company),
        "Company that bought; defaults to the contact's.",
    ),
    f(
        "ordered_at",
        Kind::DateTime,
        "When the order was placed; defaults to now.",
    ),
    f(
        "status",
        Kind::Choice(ORDER_STATUSES),
        "pending, paid, fulfilled, cancelled or refunded; defaults to paid.",
    ),
    f(
        "channel",
        Kind::Choice(ORDER_CHANNELS),
        "online, store, phone, marketplace, sales or other.",
    ),
    f(
        "currency",
        Kind::Currency,
        "ISO 4217 code; defaults to the workspace's.",
    ),
    f(
        "total",
        MONEY,
        "Total in minor units; defaults to the sum of the lines.",
    ),
    f(
        "lines",
        Kind::LineItems,
        "Line items: name, sku, quantity, unit_price and total (minor units).",
    ),
    f("owner_id", Kind::UserRef, "User who owns the order."),
];

pub(super) const SEGMENT: &[FieldSpec] = &[
    req("name", Kind::Text(T), "Segment name."),
    once("object", Kind::Choice(SEGMENTABLE), "contact or company."),
    req(
        "filter",
        Kind::Text(10_000),
        "Who belongs, in the filter language, e.g. `rfm_group = champions and count(orders where ordered_at > -90d) >= 2`.",
    ),
    f("description", Kind::Text(1000), "What the segment is for."),
    f("owner_id", Kind::UserRef, "Who made it; defaults to the caller."),
    ro("member_count", Kind::Int { min: 0, max: i64::MAX }, "Members at the last refresh."),
    ro("refreshed_at", Kind::DateTime, "When membership was last computed."),
];
