//! The values of choice fields as old systems write them, in English, Danish and
//! Chinese: `Møde` and `会议` are a meeting, `Kunde` and `客户` a customer.

/// Each option with the words that mean it (lower case). One word means one option.
const WORDS: &[(&str, &[&str])] = &[
    // Activity kinds.
    (
        "note",
        &[
            "notes",
            "comment",
            "notat",
            "notater",
            "bemærkning",
            "kommentar",
            "备注",
            "笔记",
            "记录",
            "便签",
        ],
    ),
    (
        "call",
        &[
            "phone call",
            "phone",
            "telephone",
            "call log",
            "opkald",
            "telefonopkald",
            "telefon",
            "samtale",
            "电话",
            "通话",
            "来电",
            "去电",
            "致电",
            "打电话",
        ],
    ),
    (
        "email",
        &["e-mail", "mail", "e-post", "邮件", "电子邮件", "电邮"],
    ),
    (
        "meeting",
        &[
            "møde",
            "mødet",
            "besøg",
            "kundebesøg",
            "会议",
            "会面",
            "拜访",
            "见面",
            "面谈",
        ],
    ),
    // Lifecycle stages.
    ("subscriber", &["abonnent", "订阅者", "订户"]),
    ("lead", &["emne", "线索", "潜在客户", "意向客户"]),
    ("mql", &["marketing qualified lead", "营销合格线索"]),
    ("sql", &["sales qualified lead", "销售合格线索"]),
    (
        "opportunity",
        &["mulighed", "salgsmulighed", "商机", "机会"],
    ),
    ("customer", &["kunde", "客户", "顾客", "成交客户", "已成交"]),
    ("advocate", &["ambassadør", "推荐者", "拥护者"]),
    ("other", &["andet", "anden", "其他", "其它", "流失客户"]),
    // Order statuses.
    (
        "pending",
        &[
            "afventer",
            "afventende",
            "ubetalt",
            "unpaid",
            "authorized",
            "partially_paid",
            "partially paid",
            "待付款",
            "待处理",
            "未付款",
        ],
    ),
    // A partly refunded order was still bought.
    (
        "paid",
        &[
            "betalt",
            "已付款",
            "已支付",
            "partially_refunded",
            "partially refunded",
        ],
    ),
    (
        "fulfilled",
        &[
            "shipped",
            "delivered",
            "completed",
            "leveret",
            "afsendt",
            "gennemført",
            "已发货",
            "已完成",
            "已送达",
        ],
    ),
    ("cancelled", &["canceled", "voided", "annulleret", "已取消"]),
    ("refunded", &["refunderet", "已退款"]),
    // Task priorities.
    ("low", &["lav", "低"]),
    ("normal", &["medium", "mellem", "中", "普通"]),
    ("high", &["høj", "高", "紧急"]),
];

/// The option of `options` that `written` names: the option itself (any case, a space
/// for `_`), or a word for it in English, Danish or Chinese. None when none does.
pub fn option_for(options: &[&'static str], written: &str) -> Option<&'static str> {
    let lower = written.trim().to_lowercase();
    if let Some(o) = options
        .iter()
        .find(|o| **o == lower || o.replace('_', " ") == lower)
    {
        return Some(o);
    }
    let (option, _) = WORDS
        .iter()
        .find(|(_, words)| words.contains(&lower.as_str()))?;
    options.iter().find(|o| *o == option).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{ACTIVITY_KINDS, LIFECYCLE_STAGES, ORDER_STATUSES, PRIORITIES};

    #[test]
    fn options_are_read_in_three_languages() {
        for (written, kind) in [
            ("Meeting", "meeting"),
            ("Møde", "meeting"),
            ("会议", "meeting"),
            ("Opkald", "call"),
            ("电话", "call"),
            ("E-mail", "email"),
            ("邮件", "email"),
            ("Notat", "note"),
            ("备注", "note"),
        ] {
            assert_eq!(option_for(ACTIVITY_KINDS, written), Some(kind), "{written}");
        }
        assert_eq!(option_for(LIFECYCLE_STAGES, "Kunde"), Some("customer"));
        assert_eq!(option_for(LIFECYCLE_STAGES, " 客户 "), Some("customer"));
        assert_eq!(option_for(PRIORITIES, "Høj"), Some("high"));
        assert_eq!(option_for(ORDER_STATUSES, "Betalt"), Some("paid"));
        assert_eq!(option_for(ORDER_STATUSES, "canceled"), Some("cancelled"));
        assert_eq!(option_for(ORDER_STATUSES, "已发货"), Some("fulfilled"));
    }

    #[test]
    fn a_word_for_another_fields_option_is_no_option() {
        assert_eq!(option_for(ACTIVITY_KINDS, "Kunde"), None);
        assert_eq!(option_for(ACTIVITY_KINDS, "sms"), None);
        assert_eq!(option_for(PRIORITIES, "møde"), None);
    }

    #[test]
    fn each_word_means_one_option() {
        let mut seen = std::collections::HashSet::new();
        for (option, words) in WORDS {
            assert!(seen.insert(*option), "{option} twice");
            for w in *words {
                assert_eq!(w.to_lowercase(), *w, "{w} is lower case");
                assert!(seen.insert(w), "{w} means two options");
            }
        }
    }
}
