//! `Accept-Language` as RFC 4647 lookup: the language tags to try, most
//! wanted first, each range followed by its shorter prefixes (`de-ch` →
//! `de`). Pure: tested natively and by property.

/// At most this many of the client's ranges are tried (cost per request).
pub const MAX_RANGES: usize = 3;
/// At most this many tags (ranges and their prefixes) are tried.
pub const MAX_TAGS_TRIED: usize = 6;
/// A tag longer than this is no language we keep a file for.
const MAX_TAG: usize = 35;

/// The tags to try, lowercased, most wanted first: ranges ordered by q
/// (ties in the client's order), `q=0` and everything under it excluded,
/// `*` (also `*;q=0`) and malformed ranges ignored, at most [`MAX_RANGES`] ranges, each
/// followed by its prefixes, at most [`MAX_TAGS_TRIED`] in all. Empty: the
/// unlocalised files.
pub fn tags(header: Option<&str>) -> Vec<String> {
    let Some(header) = header else {
        return Vec::new();
    };
    let mut wanted: Vec<(u16, usize, String)> = Vec::new();
    let mut excluded: Vec<String> = Vec::new();
    for (i, item) in header.split(',').enumerate().take(64) {
        let Some((range, q)) = parse_item(item) else {
            continue;
        };
        if q == 0 {
            excluded.push(range);
        } else if range != "*" {
            wanted.push((q, i, range));
        }
    }
    // Highest q first; at equal q the client's order.
    wanted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<String> = Vec::new();
    let shut = |tag: &str| {
        excluded
            .iter()
            .any(|x| x == tag || tag.starts_with(&format!("{x}-")))
    };
    for (_, _, range) in wanted.into_iter().take(MAX_RANGES) {
        // A range the client also refuses is no range at all.
        if shut(&range) {
            continue;
        }
        for tag in fallbacks(&range) {
            if !shut(&tag) && !out.contains(&tag) && out.len() < MAX_TAGS_TRIED {
                out.push(tag);
            }
        }
    }
    out
}

/// One `range;q=…` item: the lowercased range and q in thousandths;
/// `None` when malformed (never a reason to fail).
fn parse_item(item: &str) -> Option<(String, u16)> {
    let mut parts = item.split(';');
    let range = parts.next()?.trim().to_ascii_lowercase();
    if !valid_range(&range) {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let (k, v) = param.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("q") {
            q = crate::negotiate::parse_q(v.trim())?;
        }
    }
    Some((range, q))
}

/// `*` or subtags of 1–8 letters and digits, the first letters only.
fn valid_range(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    if r.is_empty() || r.len() > MAX_TAG {
        return false;
    }
    r.split('-').enumerate().all(|(i, sub)| {
        (1..=8).contains(&sub.len())
            && sub.bytes().all(|b| {
                if i == 0 {
                    b.is_ascii_lowercase()
                } else {
                    b.is_ascii_lowercase() || b.is_ascii_digit()
                }
            })
    })
}

/// A range and its prefixes, longest first; a singleton subtag left at the
/// end is dropped with its prefix (RFC 4647 §3.4: `zh-x` is no tag).
fn fallbacks(range: &str) -> Vec<String> {
    let subs: Vec<&str> = range.split('-').collect();
    let mut out = Vec::new();
    let mut n = subs.len();
    while n > 0 {
        if n > 1 && subs[n - 1].len() == 1 {
            n -= 1;
            continue;
        }
        out.push(subs[..n].join("-"));
        n -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: &str) -> Vec<String> {
        tags(Some(h))
    }

    #[test]
    fn ranges_come_by_q_then_order_each_with_its_prefixes() {
        assert_eq!(t("de-CH, fr;q=0.5"), ["de-ch", "de", "fr"]);
        assert_eq!(t("fr;q=0.5, de"), ["de", "fr"]);
        assert_eq!(t("en;q=0.8, pt-BR;q=0.8"), ["en", "pt-br", "pt"]);
        assert_eq!(t("zh-Hant-TW"), ["zh-hant-tw", "zh-hant", "zh"]);
        assert_eq!(t("zh-x-foo"), ["zh-x-foo", "zh"]);
    }

    #[test]
    fn no_header_a_star_or_nothing_valid_means_unlocalised() {
        assert!(tags(None).is_empty());
        assert!(t("").is_empty());
        assert!(t("*").is_empty());
        assert!(t("1x, de;q=2, ../../etc, de;q=0.5;q, -de").is_empty());
    }

    #[test]
    fn q0_excludes_the_range_and_what_lies_under_it() {
        assert_eq!(t("de-CH, de;q=0"), Vec::<String>::new());
        assert_eq!(t("de-CH, de-ch;q=0, fr"), ["fr"]);
        // `*;q=0` refuses what the client did not name, not what it did.
        assert_eq!(t("de, *;q=0"), ["de"]);
        assert_eq!(t("de;q=0, deu"), ["deu"]);
        assert_eq!(t("de;q=0.000, fr;q=0.001"), ["fr"]);
    }

    #[test]
    fn at_most_three_ranges_are_tried() {
        assert_eq!(t("en-gb, c, d, e"), ["en-gb", "en", "c", "d"]);
        assert_eq!(t("e;q=0.1, a, c, d"), ["a", "c", "d"]);
        assert_eq!(
            t("zh-hant-tw-a1-b2, de-ch, fr"),
            [
                "zh-hant-tw-a1-b2",
                "zh-hant-tw-a1",
                "zh-hant-tw",
                "zh-hant",
                "zh",
                "de-ch"
            ]
        );
    }
}
