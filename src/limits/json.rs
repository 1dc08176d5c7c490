//! Counting a JSON body before it is parsed.
//!
//! Parsing into the FHIR and CDS Hooks models costs far more than the bytes (issue 14: a 4 MB
//! body of 265k tiny QuestionnaireResponse items peaked at 307 MB). A pass over the bytes with a
//! visitor that keeps nothing (no value, no string, no map) counts values, array elements and
//! nesting first, so the model is only ever built for bodies whose size in values is bounded.
//! Syntax errors are left to the real parse, which reports them with their path.

use std::cell::Cell;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The bounds a JSON body must keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonCaps {
    /// Most values in the whole body.
    pub values: usize,
    /// Most elements of one array.
    pub array_items: usize,
    /// Deepest nesting of arrays and objects.
    pub depth: usize,
}

/// Which cap a body passed, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct CapExceeded {
    /// The path of the value at fault (`item[10000]`), object keys that are not plain names
    /// replaced by `?` so that nothing the caller wrote beyond field names is echoed.
    pub path: String,
    /// The `[limits]` key passed.
    pub limit: &'static str,
}

/// Counts `body` against `caps`: `Err` when a cap is passed; `Ok` for bodies within them and for
/// bodies that are not JSON at all (the real parse reports those).
///
/// # Errors
/// [`CapExceeded`] naming the cap and where it was passed.
pub fn scan(body: &[u8], caps: JsonCaps) -> Result<(), CapExceeded> {
    let hit = Cell::new(None);
    let values = Cell::new(0_usize);
    let mut de = serde_json::Deserializer::from_slice(body);
    // Deeper than the caps is refused by the caps; serde_json's own limit stays a backstop.
    let mut track = serde_path_to_error::Track::new();
    let seed = Scan {
        caps,
        values: &values,
        hit: &hit,
        depth: 0,
    };
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    match (result, hit.take()) {
        (Err(_), Some(limit)) => Err(CapExceeded {
            path: plain_path(&track.path()),
            limit,
        }),
        _ => Ok(()),
    }
}

/// A path with every key that is not a plain field name (ASCII letters, digits, `_`, `-`, at
/// most 64 characters) replaced by `?`.
fn plain_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;

    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                let plain = !key.is_empty()
                    && key.len() <= 64
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                out.push_str(if plain { key } else { "?" });
            }
            Segment::Enum { .. } | Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

#[derive(Clone, Copy)]
struct Scan<'a> {
    caps: JsonCaps,
    values: &'a Cell<usize>,
    hit: &'a Cell<Option<&'static str>>,
    depth: usize,
}

impl Scan<'_> {
    fn count<E: de::Error>(self) -> Result<(), E> {
        let n = self.values.get() + 1;
        self.values.set(n);
        if n > self.caps.values {
            return Err(self.exceeded("max_json_values"));
        }
        Ok(())
    }

    fn exceeded<E: de::Error>(self, limit: &'static str) -> E {
        self.hit.set(Some(limit));
        E::custom(limit)
    }

    fn nested<E: de::Error>(self) -> Result<Self, E> {
        self.count()?;
        if self.depth + 1 > self.caps.depth {
            return Err(self.exceeded("max_json_depth"));
        }
        Ok(Self {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.count()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.count()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.count()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.count()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.count()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.count()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        let mut items = 0_usize;
        while seq.next_element_seed(inner)?.is_some() {
            items += 1;
            if items >= self.caps.array_items {
                // The next element would be one too many; refuse before reading it.
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(self.exceeded("max_json_array_items"));
                }
                return Ok(());
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: JsonCaps = JsonCaps {
        values: 100,
        array_items: 10,
        depth: 4,
    };

    #[test]
    fn bodies_within_the_caps_and_bodies_that_are_not_json_pass() {
        assert_eq!(scan(br#"{"item":[1,2,3],"a":{"b":"c"}}"#, CAPS), Ok(()));
        assert_eq!(scan(b"not json", CAPS), Ok(()));
        assert_eq!(scan(br#"{"item":[1,2"#, CAPS), Ok(()));
    }

    #[test]
    fn a_long_array_is_named_by_its_path() {
        let body = format!(r#"{{"parameter":[{{"item":[{}]}}]}}"#, ["0"; 11].join(","));
        let err = scan(body.as_bytes(), CAPS).unwrap_err();
        assert_eq!(err.limit, "max_json_array_items");
        assert!(err.path.starts_with("parameter[0].item"), "{}", err.path);
        let body = format!(r#"{{"item":[{}]}}"#, ["0"; 10].join(","));
        assert_eq!(scan(body.as_bytes(), CAPS), Ok(()));
    }

    #[test]
    fn too_many_values_and_too_deep_are_refused() {
        let body = format!("[{}]", ["[1,2,3,4,5,6,7,8,9]"; 10].join(","));
        assert_eq!(
            scan(body.as_bytes(), CAPS).unwrap_err().limit,
            "max_json_values"
        );
        let err = scan(br#"{"a":{"b":{"c":{"d":{"e":1}}}}}"#, CAPS).unwrap_err();
        assert_eq!(err.limit, "max_json_depth");
        let err = scan(br#"{"a b":{"c":{"d":{"e":{"f":1}}}}}"#, CAPS).unwrap_err();
        assert!(err.path.starts_with("?."), "{}", err.path);
    }
}
