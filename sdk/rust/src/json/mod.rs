//! A small, dependency-free JSON parser and compact serializer, so plugins
//! can read and write JSON payloads without serde.
//!
//! Objects are `BTreeMap`s: a repeated key keeps its last value and output
//! keys are sorted, as Go's `encoding/json` does with `map[string]any`.
//! Integers that fit in `i64` stay exact ([`Json::Int`]); other numbers are
//! `f64` ([`Json::Float`]) and print in the shortest form that reads back
//! the same (`1.5`, `1e-7`, `1e+21`), as in JavaScript and Go.
//!
//! ```
//! use warden::json::Json;
//! let v = Json::parse(r#"{"b":[1,2.5,"\u00e9"],"a":null}"#).unwrap();
//! assert_eq!(v.get("b").and_then(|b| b.as_array()).map(|b| b.len()), Some(3));
//! assert_eq!(v.to_string(), r#"{"a":null,"b":[1,2.5,"é"]}"#);
//! ```

use std::collections::BTreeMap;
use std::fmt;

mod parse;
mod write;

pub use write::write_string;

/// Json is a parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number without fraction or exponent that fits in i64.
    Int(i64),
    /// Any other number. NaN and infinities print as `null`.
    Float(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

/// MAX_DEPTH bounds the nesting of arrays and objects that [`Json::parse`]
/// accepts, so hostile input cannot exhaust the plugin's small stack.
pub const MAX_DEPTH: usize = 128;

/// ParseError is a JSON syntax error at byte `offset` of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for ParseError {}

impl Json {
    /// parse parses exactly one JSON value, with optional whitespace around it.
    ///
    /// # Errors
    ///
    /// Returns the first syntax error, a number out of f64 range, or nesting
    /// deeper than [`MAX_DEPTH`].
    pub fn parse(s: &str) -> Result<Json, ParseError> {
        parse::parse(s)
    }

    /// from_slice parses UTF-8 bytes, as [`Json::parse`].
    ///
    /// # Errors
    ///
    /// As [`Json::parse`], plus invalid UTF-8.
    pub fn from_slice(b: &[u8]) -> Result<Json, ParseError> {
        let s = std::str::from_utf8(b).map_err(|e| ParseError {
            offset: e.valid_up_to(),
            reason: "invalid UTF-8",
        })?;
        Json::parse(s)
    }

    /// object builds an object from key-value pairs; a later key wins.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// get returns the field `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// is_null reports whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// as_bool returns a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// as_i64 returns an integer, or a float with an exact i64 value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Int(n) => Some(*n),
            // i64::MAX as f64 is 2^63, so -2^63 <= x < 2^63 and the cast is exact.
            Json::Float(x) if x.fract() == 0.0 && *x >= i64::MIN as f64 && *x < i64::MAX as f64 => {
                Some(*x as i64)
            }
            _ => None,
        }
    }

    /// as_f64 returns any number as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(n) => Some(*n as f64),
            Json::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// as_str returns a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// as_array returns an array's elements.
    pub fn as_array(&self) -> Option<&Vec<Json>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// as_object returns an object's fields.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Json>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Json {
        Json::Int(n)
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Float(x)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::String(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::String(s)
    }
}

/// None is `null`.
impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(o: Option<T>) -> Json {
        o.map_or(Json::Null, Into::into)
    }
}

#[cfg(test)]
mod tests;
