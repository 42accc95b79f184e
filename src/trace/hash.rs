//! The trace hash: a stable binary encoding of each structured event, folded into 64 bits.
//!
//! Encoding (version 2 of the trace hash; version 1 hashed each event's text line with FNV-1a):
//! every event contributes a sequence of 64-bit words, in this order:
//!
//! 1. its virtual time in µs;
//! 2. its [`TraceKind`](super::TraceKind) as serde serializes it, walked with [`WordEncoder`]:
//!    fields in declaration order (the `event` tag first, as the variant's snake_case name), field
//!    names not encoded; every integer and `bool` widened to one word (two's complement for
//!    signed); `f32`/`f64` as their IEEE-754 bits; a string as its byte length, then its UTF-8
//!    bytes in little-endian 8-byte chunks, the last one zero-padded; `None` as 0, `Some(v)` as 1
//!    then `v`; unit enum variants as their index; a struct as its field count then its fields;
//!    a sequence or map as its length then its items (maps in their own iteration order, which
//!    for `serde_json` objects is sorted by key).
//!
//! Each word `w` is folded with the FxHash step (rustc's and Firefox's hasher):
//! `h = (h.rotl(5) ^ w) * 0x517c_c1b7_2722_0a95` (wrapping), from
//! `h = 0xcbf2_9ce4_8422_2325`. All arithmetic is on `u64`, so the hash is the same on every
//! platform, natively and in wasm32. No `Debug` output and no `HashMap` iteration is involved.

use serde::ser::{self, Serialize};
use std::fmt;

/// Initial state of the trace hash (the FNV-1a 64 offset basis, kept from version 1).
pub const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;
const K: u64 = 0x517c_c1b7_2722_0a95;

/// Folds one word into `h` (the FxHash step).
#[inline(always)]
pub fn fold(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

/// Serde serializer that folds a value's stable binary encoding (see the module docs) into a
/// running hash.
pub struct WordEncoder {
    /// The running hash.
    pub h: u64,
}

impl WordEncoder {
    #[inline(always)]
    fn word(&mut self, w: u64) {
        self.h = fold(self.h, w);
    }

    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.word(u64::from_le_bytes(a));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut a = [0u8; 8];
            a[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(a));
        }
    }
}

/// Never produced by [`WordEncoder`] itself (serde requires an error type).
#[derive(Debug)]
pub struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

type R = Result<(), EncodeError>;

impl ser::Serializer for &mut WordEncoder {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    #[inline]
    fn serialize_bool(self, v: bool) -> R {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> R {
        self.word(v as i64 as u64);
        Ok(())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> R {
        self.word(v as i64 as u64);
        Ok(())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> R {
        self.word(v as i64 as u64);
        Ok(())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> R {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> R {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> R {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> R {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> R {
        self.word(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.word(v as u64);
        self.word((v >> 64) as u64);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        self.word(v as u64);
        self.word((v >> 64) as u64);
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> R {
        self.word(v.to_bits() as u64);
        Ok(())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> R {
        self.word(v.to_bits());
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> R {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> R {
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.bytes(v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> R {
        self.word(0);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> R {
        self.word(1);
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> R {
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        Ok(())
    }
    #[inline]
    fn serialize_unit_variant(self, _name: &'static str, index: u32, _variant: &'static str) -> R {
        self.word(index as u64);
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> R {
        self.word(index as u64);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, EncodeError> {
        self.word(len.map_or(u64::MAX, |l| l as u64));
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self, EncodeError> {
        self.word(len as u64);
        Ok(self)
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self, EncodeError> {
        self.word(len as u64);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Self, EncodeError> {
        self.word(index as u64);
        self.word(len as u64);
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, EncodeError> {
        self.word(len.map_or(u64::MAX, |l| l as u64));
        Ok(self)
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self, EncodeError> {
        self.word(len as u64);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Self, EncodeError> {
        self.word(index as u64);
        self.word(len as u64);
        Ok(self)
    }
}

macro_rules! compound {
    ($tr:ident, $method:ident) => {
        impl ser::$tr for &mut WordEncoder {
            type Ok = ();
            type Error = EncodeError;
            #[inline]
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
                value.serialize(&mut **self)
            }
            #[inline]
            fn end(self) -> R {
                Ok(())
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for &mut WordEncoder {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> R {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut WordEncoder {
    type Ok = ();
    type Error = EncodeError;
    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _key: &'static str, value: &T) -> R {
        value.serialize(&mut **self)
    }
    #[inline]
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut WordEncoder {
    type Ok = ();
    type Error = EncodeError;
    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _key: &'static str, value: &T) -> R {
        value.serialize(&mut **self)
    }
    #[inline]
    fn end(self) -> R {
        Ok(())
    }
}

/// Folds one event (time + kind) into `h`.
#[inline]
pub fn fold_event(h: u64, time_us: u64, what: &super::TraceKind) -> u64 {
    let mut e = WordEncoder {
        h: fold(h, time_us),
    };
    // The encoder never fails; a custom error from a foreign Serialize impl would only stop
    // folding this event early, which is still deterministic.
    let _ = what.serialize(&mut e);
    e.h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_length_prefixed_le_chunks() {
        let mut e = WordEncoder { h: HASH_SEED };
        ser::Serializer::serialize_str(&mut e, "abcdefghi").unwrap();
        let mut h = fold(HASH_SEED, 9);
        h = fold(h, u64::from_le_bytes(*b"abcdefgh"));
        h = fold(h, u64::from(b'i'));
        assert_eq!(e.h, h);
    }

    #[test]
    fn fold_is_pinned() {
        // Pinned so that a change of the algorithm is seen here first.
        assert_eq!(fold(HASH_SEED, 0), 0x098f_3af4_374f_d9ad);
        assert_eq!(fold(0, 1), K);
    }
}
