//! SQL values and query results, as they cross the ABI (section 4).

/// Value is one SQL parameter or result value. Use `Value::from` (or
/// `.into()`) to build parameters: `&[key.into(), 1.into()]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// is_null reports whether the value is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// as_i64 returns an INT64 value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// as_f64 returns a FLOAT64 value, or an INT64 value converted.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }

    /// as_str returns a TEXT value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// as_bytes returns a BLOB value, or the bytes of a TEXT value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) => Some(b),
            Value::Text(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Int(i64::from(n))
            }
        }
    )*};
}
from_int!(i64, i32, i16, i8, u32, u16, u8);

/// Booleans are stored as 0 or 1 (ABI.md section 6).
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Int(i64::from(b))
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Blob(b.to_vec())
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Blob(b)
    }
}

/// None is NULL.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

/// Rows is the result of a query: column names, then rows of values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// len returns the number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// is_empty reports whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// row returns row `i`, if there is one.
    pub fn row(&self, i: usize) -> Option<Row<'_>> {
        self.rows.get(i).map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// first returns the first row, if there is one.
    pub fn first(&self) -> Option<Row<'_>> {
        self.row(0)
    }

    /// iter returns the rows in order.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        self.rows.iter().map(move |values| Row {
            columns: &self.columns,
            values,
        })
    }
}

/// Row is one row of [`Rows`]. Its getters take a column index (`0`) or a
/// column name (`"value"`), and return None for a missing column, NULL, or
/// a value of another type.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl<'a> Row<'a> {
    /// values returns the row's values, in column order.
    pub fn values(&self) -> &'a [Value] {
        self.values
    }

    /// get returns the value of column `c`.
    pub fn get(&self, c: impl ColumnIndex) -> Option<&'a Value> {
        c.index(self.columns).and_then(|i| self.values.get(i))
    }

    /// get_i64 returns column `c` when it is an INT64.
    pub fn get_i64(&self, c: impl ColumnIndex) -> Option<i64> {
        self.get(c).and_then(Value::as_i64)
    }

    /// get_f64 returns column `c` when it is a FLOAT64 or an INT64.
    pub fn get_f64(&self, c: impl ColumnIndex) -> Option<f64> {
        self.get(c).and_then(Value::as_f64)
    }

    /// get_str returns column `c` when it is TEXT.
    pub fn get_str(&self, c: impl ColumnIndex) -> Option<&'a str> {
        self.get(c).and_then(Value::as_str)
    }

    /// get_bytes returns column `c` when it is a BLOB or TEXT.
    pub fn get_bytes(&self, c: impl ColumnIndex) -> Option<&'a [u8]> {
        self.get(c).and_then(Value::as_bytes)
    }
}

/// ColumnIndex selects a column of a [`Row`]: by position (`usize`) or by
/// name (`&str`, the first column with that exact name).
pub trait ColumnIndex {
    /// index returns the position of the column among `columns`.
    fn index(&self, columns: &[String]) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn index(&self, columns: &[String]) -> Option<usize> {
        if *self < columns.len() {
            Some(*self)
        } else {
            None
        }
    }
}

impl ColumnIndex for &str {
    fn index(&self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_impls() {
        let args: &[Value] = &[
            "k".into(),
            3.into(),
            true.into(),
            None::<i64>.into(),
            1.5.into(),
        ];
        let want = [
            Value::Text("k".into()),
            Value::Int(3),
            Value::Int(1),
            Value::Null,
            Value::Float(1.5),
        ];
        assert_eq!(args, &want[..]);
        assert_eq!(Value::from(&b"ab"[..]), Value::Blob(vec![b'a', b'b']));
    }

    #[test]
    fn row_getters() {
        let rows = Rows {
            columns: vec!["name".into(), "value".into()],
            rows: vec![vec![Value::Text("c".into()), Value::Int(7)]],
        };
        let r = rows.first().unwrap();
        assert_eq!(r.get_str("name"), Some("c"));
        assert_eq!(r.get_i64(1), Some(7));
        assert_eq!(r.get_i64("value"), Some(7));
        assert_eq!(r.get_f64("value"), Some(7.0));
        assert_eq!(r.get_i64("name"), None);
        assert_eq!(r.get_i64(2), None);
        assert_eq!(r.get("missing"), None);
        assert_eq!(rows.iter().count(), 1);
        assert!(rows.row(1).is_none());
    }
}
