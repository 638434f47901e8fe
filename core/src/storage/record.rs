//! What a store holds, and the form in which it holds it.
//!
//! A stored form is one flag byte and a payload: `[0] raw encoding`, or `[1] raw length (u32, little
//! endian) lz4 block` (lz4_flex's size-prepended block format after the flag). The same bytes live in
//! the hot tier and on the disk, so eviction and promotion copy them and never recompress.

use crate::types::Value;

/// A record the store can hold: it must round-trip through bytes. Decoding returns `None` for bytes
/// that are not an encoding (the store counts those as decode errors rather than panicking).
pub trait Record: Clone {
    /// Appends the record's encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// The record `bytes` encode.
    fn decode(bytes: &[u8]) -> Option<Self>
    where
        Self: Sized;
    /// The length of the encoding, if known without encoding. Lets the store account for a record it
    /// keeps plain without copying it; `None` (the default) makes it encode.
    fn encoded_len(&self) -> Option<usize> {
        None
    }
}

impl Record for Value {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Value::from(bytes))
    }
    fn encoded_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl Record for Vec<u8> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
    fn encoded_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

/// Encodings shorter than this are stored plain without trying lz4. On JSON-like records lz4 (no
/// dictionary) saves the 1/8 we ask for in 0 of 500 records of 96 bytes and 496 of 500 of 128 bytes
/// (`benches/storage.rs` prints the table), and a failed attempt costs a whole compression.
pub const COMPRESS_MIN_BYTES: usize = 128;

pub(super) const FLAG_PLAIN: u8 = 0;
pub(super) const FLAG_LZ4: u8 = 1;

/// Compresses `raw` into `out` as a stored form; true if that saves at least 1/8 over the plain form
/// (`1 + raw.len()` bytes), false (and `out` unspecified) otherwise.
pub(super) fn pack(raw: &[u8], out: &mut Vec<u8>) -> bool {
    if raw.len() < COMPRESS_MIN_BYTES || raw.len() > u32::MAX as usize {
        return false;
    }
    let plain = raw.len() + 1;
    out.clear();
    out.resize(5 + lz4_flex::block::get_maximum_output_size(raw.len()), 0);
    out[0] = FLAG_LZ4;
    out[1..5].copy_from_slice(&(raw.len() as u32).to_le_bytes());
    let Ok(n) = lz4_flex::block::compress_into(raw, &mut out[5..]) else {
        return false;
    };
    out.truncate(5 + n);
    out.len() * 8 <= plain * 7
}

/// The raw encoding inside stored form `stored`, decompressing into `scratch` when needed.
pub(super) fn unpack<'a>(stored: &'a [u8], scratch: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    match stored.split_first()? {
        (&FLAG_PLAIN, raw) => Some(raw),
        (&FLAG_LZ4, rest) if rest.len() >= 4 => {
            let mut len = [0u8; 4];
            len.copy_from_slice(&rest[..4]);
            let len = u32::from_le_bytes(len) as usize;
            scratch.clear();
            scratch.resize(len, 0);
            let n = lz4_flex::block::decompress_into(&rest[4..], scratch).ok()?;
            (n == len).then_some(&scratch[..])
        }
        _ => None,
    }
}

/// Decodes a record from stored form `stored`.
pub(super) fn decode_stored<R: Record>(stored: &[u8], scratch: &mut Vec<u8>) -> Option<R> {
    R::decode(unpack(stored, scratch)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_unpack_roundtrip_and_small_values_stay_plain() {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        assert!(!pack(b"short", &mut out));
        let text = br#"{"sku":"A-1","qty":1},{"sku":"A-2","qty":1},{"sku":"A-3","qty":2},{"sku":"A-4","qty":1},{"sku":"A-5","qty":3}"#.repeat(3);
        assert!(pack(&text, &mut out));
        assert!(out.len() < text.len() / 2);
        assert_eq!(unpack(&out, &mut scratch), Some(&text[..]));
        let mut plain = vec![FLAG_PLAIN];
        plain.extend_from_slice(b"abc");
        assert_eq!(unpack(&plain, &mut scratch), Some(&b"abc"[..]));
    }

    #[test]
    fn incompressible_values_stay_plain_and_garbage_does_not_decode() {
        let mut rng = crate::Rng::new(5);
        let noise: Vec<u8> = (0..1000).map(|_| rng.next_u64() as u8).collect();
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        assert!(!pack(&noise, &mut out));
        assert_eq!(unpack(&[], &mut scratch), None);
        assert_eq!(unpack(&[7, 1, 2], &mut scratch), None);
        assert_eq!(unpack(&[FLAG_LZ4, 100, 0, 0, 0, 0xff], &mut scratch), None);
    }
}
