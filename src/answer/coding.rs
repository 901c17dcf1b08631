//! Which decoding a failing body's excerpt gets, so the log shows text:
//! decided here from `Content-Encoding`, carried out by the executor with
//! the runtime's own decoders (`DecompressionStream`). Pure: tested
//! natively.

/// At most this many codings are undone; a body encoded more often is
/// logged as it came.
pub const MAX_LAYERS: usize = 2;

/// The codings the runtime can undo, by their tokens (RFC 9110 §8.4.1):
/// token, the decoder's format. `deflate` is zlib-wrapped by the RFC, but
/// servers also send raw deflate under that name: the executor tells them
/// apart by the zlib header of the first bytes.
const DECODERS: [(&str, &str); 3] = [("gzip", "gzip"), ("x-gzip", "gzip"), ("deflate", "deflate")];

/// `Content-Encoding` as the executor spells it to look it up: tokens
/// lower-cased, trimmed and joined by `,` (`GZIP , gzip` → `gzip,gzip`).
pub fn normalise(value: &str) -> String {
    let tokens: Vec<String> = value
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    tokens.join(",")
}

/// The decoders that undo `value`, the last coding applied first; `None`
/// when nothing is to be decoded (no coding, `identity`, one the runtime
/// cannot undo such as `br`, or more than [`MAX_LAYERS`]).
pub fn decoders(value: &str) -> Option<Vec<&'static str>> {
    let normal = normalise(value);
    let mut layers = Vec::new();
    for token in normal.split(',').filter(|t| *t != "identity") {
        let (_, format) = DECODERS.iter().find(|(name, _)| *name == token)?;
        layers.push(*format);
    }
    layers.reverse();
    (!layers.is_empty() && layers.len() <= MAX_LAYERS).then_some(layers)
}

/// The normalised values the executor decodes, with their decoders: one
/// or two of the tokens above (a value not in the table, `identity` among
/// its tokens say, is logged as it came).
pub fn table() -> Vec<(String, Vec<&'static str>)> {
    let mut values: Vec<String> = DECODERS.iter().map(|(t, _)| (*t).to_owned()).collect();
    for (a, _) in DECODERS {
        for (b, _) in DECODERS {
            values.push(format!("{a},{b}"));
        }
    }
    values
        .into_iter()
        .filter_map(|v| decoders(&v).map(|d| (v, d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codings_are_tokens_in_any_case_undone_last_first() {
        let table: [(&str, Option<&[&str]>); 12] = [
            ("gzip", Some(&["gzip"])),
            ("GZIP", Some(&["gzip"])),
            (" X-Gzip ", Some(&["gzip"])),
            ("deflate", Some(&["deflate"])),
            ("gzip, gzip", Some(&["gzip", "gzip"])),
            ("deflate,GZIP", Some(&["gzip", "deflate"])),
            ("identity, gzip", Some(&["gzip"])),
            ("gzip, gzip, gzip", None),
            ("br", None),
            ("gzip, br", None),
            ("identity", None),
            ("", None),
        ];
        for (value, want) in table {
            assert_eq!(decoders(value).as_deref(), want, "{value:?}");
        }
    }

    #[test]
    fn the_table_holds_every_decoded_value_as_the_executor_spells_it() {
        let table = table();
        for (value, d) in &table {
            assert_eq!(&normalise(value), value);
            assert_eq!(decoders(value).as_ref(), Some(d), "{value}");
        }
        let has = |v: &str| table.iter().any(|(k, _)| *k == normalise(v));
        for v in ["GZIP", "gzip ,  gzip", "x-gzip,deflate", "Deflate"] {
            assert!(has(v), "{v}");
        }
        for v in ["br", "gzip,gzip,gzip", "identity", "gzip,identity"] {
            assert!(!has(v), "{v}");
        }
        assert_eq!(table.len(), 3 + 9);
    }
}
