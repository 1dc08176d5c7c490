//! Proto3 JSON numbers for the generated serde impls (build.rs points pbjson's code here).
//!
//! Proto3 JSON writes a number either as a JSON number or as a string holding one ("1.5",
//! "NaN", 64-bit integers). pbjson reads both through an untagged enum that tries the string
//! form first, so every numeric field built and dropped a serde error with a formatted message;
//! one visitor that takes whichever form arrives does the same without it.

use std::{fmt, marker::PhantomData, str::FromStr};

use serde::{
    Deserialize, Deserializer,
    de::{self, IntoDeserializer as _, Visitor},
};

/// A number read from a JSON number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberDeserialize<T>(pub T);

impl<'de, T> Deserialize<'de> for NumberDeserialize<T>
where
    T: FromStr + Deserialize<'de>,
    <T as FromStr>::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor(PhantomData))
    }
}

struct NumberVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for NumberVisitor<T>
where
    T: FromStr + Deserialize<'de>,
    <T as FromStr>::Err: fmt::Display,
{
    type Value = NumberDeserialize<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a number or a string holding one")
    }

    // The target type's own visitor checks the range (an i32 field refuses 2^40) and the kind
    // (an integer field refuses 1.5), as reading the number directly would.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(NumberDeserialize)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(NumberDeserialize)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(NumberDeserialize)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.parse().map(NumberDeserialize).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T>(json: &str) -> Result<T, serde_json::Error>
    where
        T: FromStr + for<'de> Deserialize<'de>,
        <T as FromStr>::Err: fmt::Display,
    {
        serde_json::from_str::<NumberDeserialize<T>>(json).map(|n| n.0)
    }

    #[test]
    fn numbers_and_numeric_strings_are_read_as_proto3_json_allows() {
        assert_eq!(read::<i32>("42").unwrap(), 42);
        assert_eq!(read::<i32>("-7").unwrap(), -7);
        assert_eq!(read::<i32>(r#""42""#).unwrap(), 42);
        assert_eq!(read::<u32>("3").unwrap(), 3);
        assert_eq!(
            read::<i64>(r#""9007199254740993""#).unwrap(),
            9_007_199_254_740_993
        );
        assert!((read::<f64>("6.5").unwrap() - 6.5).abs() < f64::EPSILON);
        assert!((read::<f64>("7").unwrap() - 7.0).abs() < f64::EPSILON);
        assert!((read::<f64>(r#""1.5""#).unwrap() - 1.5).abs() < f64::EPSILON);
        assert!(read::<f64>(r#""NaN""#).unwrap().is_nan());
        assert!((read::<f32>("0.25").unwrap() - 0.25).abs() < f32::EPSILON);
    }

    #[test]
    fn out_of_range_wrong_kind_and_non_numbers_are_refused() {
        assert!(read::<i32>("4294967296").is_err());
        assert!(read::<u32>("-1").is_err());
        assert!(read::<i32>("1.5").is_err());
        assert!(read::<i32>(r#""abc""#).is_err());
        assert!(read::<i32>("true").is_err());
        assert!(read::<i32>("null").is_err());
        assert!(read::<f64>("[1]").is_err());
    }
}
