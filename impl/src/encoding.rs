//! The deterministic byte encoding of every message and record (spec/encoding.md).
//!
//! Integers are fixed-width little-endian, `bool` is one byte 0 or 1, fixed-size byte arrays are
//! written as they are, a sequence is a `u32` count followed by its items, an `Option` is a tag
//! byte 0 (none) or 1 (some) followed by the value, an enum is a tag byte followed by its
//! fields in declaration order. Decoding is strict: an unknown tag, a bool other than 0/1, a
//! count above the sequence's limit, a short buffer or trailing bytes are errors that name the
//! field and the byte offset. There is exactly one encoding of each value, so hashes of
//! encodings are well defined.

use thiserror::Error;

/// Why bytes could not be decoded: the field and the offset where decoding stopped.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("malformed {what} at byte {offset}: {problem}")]
pub struct DecodeError {
    /// The field (`Type.field`) being decoded.
    pub what: &'static str,
    /// Byte offset in the input.
    pub offset: usize,
    /// What was wrong.
    pub problem: String,
}

/// Largest sequence count accepted by a decoder (a frame is limited in size anyway).
pub const MAX_SEQUENCE: u32 = 1 << 16;

/// A cursor over bytes being decoded.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// An error at the current offset.
    pub fn error(&self, what: &'static str, problem: impl Into<String>) -> DecodeError {
        DecodeError {
            what,
            offset: self.pos,
            problem: problem.into(),
        }
    }

    /// An error about the value of the `width` bytes just read (a tag, a bool, a count): the
    /// offset names where that value starts, the byte to look at.
    pub fn bad_value(
        &self,
        width: usize,
        what: &'static str,
        problem: impl Into<String>,
    ) -> DecodeError {
        DecodeError {
            what,
            offset: self.pos - width,
            problem: problem.into(),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() - self.pos < n {
            return Err(self.error(
                what,
                format!("needs {n} bytes, {} left", self.buf.len() - self.pos),
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A tag byte.
    pub fn tag(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.pos != self.buf.len() {
            return Err(self.error(
                what,
                format!("{} trailing bytes", self.buf.len() - self.pos),
            ));
        }
        Ok(())
    }
}

/// A type with a canonical byte encoding.
pub trait Wire: Sized {
    /// Appends the encoding of `self`.
    fn put(&self, out: &mut Vec<u8>);
    /// Decodes one value; `what` names the field for errors.
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError>;
}

/// The encoding of `value`.
pub fn encode<T: Wire>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.put(&mut out);
    out
}

/// Decodes exactly one `T` from all of `bytes`.
pub fn decode<T: Wire>(bytes: &[u8], what: &'static str) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = T::get(&mut r, what)?;
    r.finish(what)?;
    Ok(v)
}

impl Wire for u8 {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        r.tag(what)
    }
}

macro_rules! wire_int {
    ($t:ty, $n:expr) => {
        impl Wire for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
                let b = r.take($n, what)?;
                let mut a = [0u8; $n];
                a.copy_from_slice(b);
                Ok(<$t>::from_le_bytes(a))
            }
        }
    };
}
wire_int!(u32, 4);
wire_int!(u64, 8);

impl Wire for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(r.bad_value(1, what, format!("bool must be 0 or 1, found {b}"))),
        }
    }
}

impl<const N: usize> Wire for [u8; N] {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(r.take(N, what)?);
        Ok(a)
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        for x in self {
            x.put(out);
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let n = u32::get(r, what)?;
        if n > MAX_SEQUENCE {
            return Err(r.bad_value(
                4,
                what,
                format!("{n} items exceed the limit {MAX_SEQUENCE}"),
            ));
        }
        let mut v = Vec::with_capacity((n as usize).min(1024));
        for _ in 0..n {
            v.push(T::get(r, what)?);
        }
        Ok(v)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(None),
            1 => Ok(Some(T::get(r, what)?)),
            t => Err(r.bad_value(1, what, format!("option tag must be 0 or 1, found {t}"))),
        }
    }
}

/// Implements [`Wire`] for a struct as the concatenation of its fields in order.
#[macro_export]
macro_rules! wire_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl $crate::encoding::Wire for $name {
            fn put(&self, out: &mut Vec<u8>) {
                $( $crate::encoding::Wire::put(&self.$field, out); )*
            }
            fn get(
                r: &mut $crate::encoding::Reader<'_>,
                _what: &'static str,
            ) -> Result<Self, $crate::encoding::DecodeError> {
                Ok($name {
                    $( $field: $crate::encoding::Wire::get(
                        r,
                        concat!(stringify!($name), ".", stringify!($field)),
                    )?, )*
                })
            }
        }
    };
}
