//! The trace's ITF JSON forms (spec/conformance.md), read and written with serde_json alone:
//! this crate speaks the adapter protocol as an implementation in another language would,
//! without the conformance crate's types.

use serde_json::{json, Value};

/// `{"#bigint": "n"}` (or a plain number) as u64.
pub fn big(v: &Value, what: &str) -> Result<u64, String> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    v.get("#bigint")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what}: not an ITF integer: {v}"))
}

/// `{"#set": [...]}` (or a plain array) as its elements.
pub fn set<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.get("#set")
        .unwrap_or(v)
        .as_array()
        .ok_or_else(|| format!("{what}: not an ITF set: {v}"))
}

/// The tag of a sum-type value.
pub fn tag<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.get("tag")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: no tag: {v}"))
}

/// The record of a sum-type value.
pub fn record(v: &Value) -> &Value {
    v.get("value").unwrap_or(&Value::Null)
}

/// A field of a record.
pub fn field<'a>(v: &'a Value, name: &str, what: &str) -> Result<&'a Value, String> {
    v.get(name)
        .ok_or_else(|| format!("{what}: no field `{name}`"))
}

/// An ITF integer.
pub fn to_big(n: u64) -> Value {
    json!({"#bigint": n.to_string()})
}

/// A sum-type value without fields.
pub fn unit(tag: &str) -> Value {
    json!({"tag": tag, "value": {"#tup": []}})
}

/// A vote value (`NoCandidate`, `Valid{candidate}`, `Invalid{candidate}`, `NoQuorum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceValue {
    /// NoCandidate.
    NoCandidate,
    /// Valid of a candidate variant.
    Valid(u8),
    /// Invalid of a candidate variant.
    Invalid(u8),
    /// NoQuorum.
    NoQuorum,
}

impl TraceValue {
    /// Reads one.
    pub fn read(v: &Value, what: &str) -> Result<TraceValue, String> {
        let variant = || -> Result<u8, String> {
            let c = big(field(record(v), "candidate", what)?, what)?;
            u8::try_from(c).map_err(|_| format!("{what}: candidate {c}"))
        };
        Ok(match tag(v, what)? {
            "NoCandidate" => TraceValue::NoCandidate,
            "NoQuorum" => TraceValue::NoQuorum,
            "Valid" => TraceValue::Valid(variant()?),
            "Invalid" => TraceValue::Invalid(variant()?),
            t => return Err(format!("{what}: unknown value {t}")),
        })
    }

    /// Writes one.
    pub fn write(self) -> Value {
        match self {
            TraceValue::NoCandidate => unit("NoCandidate"),
            TraceValue::NoQuorum => unit("NoQuorum"),
            TraceValue::Valid(c) => {
                json!({"tag": "Valid", "value": {"candidate": to_big(u64::from(c))}})
            }
            TraceValue::Invalid(c) => {
                json!({"tag": "Invalid", "value": {"candidate": to_big(u64::from(c))}})
            }
        }
    }
}
