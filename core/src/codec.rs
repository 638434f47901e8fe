//! A compact binary encoding of version sets: what the storage engine compresses and keeps.

use crate::types::{Actor, NodeId, Time, Value};
use crate::vclock::{Dot, VectorClock, Version, VersionSet};

fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn get_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut x = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(x);
        }
    }
    None
}

/// An actor as one varint: the node in the low 16 bits, the epoch above (epoch 0 costs nothing).
fn put_actor(out: &mut Vec<u8>, a: Actor) {
    put_varint(out, u64::from(a.node.0) | u64::from(a.epoch) << 16);
}

fn get_actor(bytes: &mut &[u8]) -> Option<Actor> {
    let x = get_varint(bytes)?;
    Some(Actor::new(
        NodeId((x & 0xFFFF) as u16),
        u32::try_from(x >> 16).ok()?,
    ))
}

fn put_clock(out: &mut Vec<u8>, c: &VectorClock) {
    put_varint(out, c.len() as u64);
    for e in c.entries() {
        put_actor(out, e.actor);
        put_varint(out, e.counter);
        put_varint(out, e.updated.0);
    }
}

fn get_clock(bytes: &mut &[u8]) -> Option<VectorClock> {
    let n = get_varint(bytes)?;
    let mut c = VectorClock::new();
    for _ in 0..n {
        let node = get_actor(bytes)?;
        let counter = get_varint(bytes)?;
        let updated = Time(get_varint(bytes)?);
        c.set(node, counter, updated);
    }
    Some(c)
}

/// Appends the encoding of `set` to `out`.
pub fn encode_version_set(set: &VersionSet, out: &mut Vec<u8>) {
    put_varint(out, set.len() as u64);
    for v in set.versions() {
        put_actor(out, v.dot.actor);
        put_varint(out, v.dot.counter);
        put_varint(out, v.written_at.0 << 1 | u64::from(v.tombstone));
        put_clock(out, &v.context);
        put_varint(out, v.value.len() as u64);
        out.extend_from_slice(v.value.as_bytes());
    }
}

/// Decodes what [`encode_version_set`] wrote; `None` if the bytes are malformed.
pub fn decode_version_set(mut bytes: &[u8]) -> Option<VersionSet> {
    let b = &mut bytes;
    let n = get_varint(b)?;
    let mut set = VersionSet::new();
    for _ in 0..n {
        let actor = get_actor(b)?;
        let counter = get_varint(b)?;
        let stamp = get_varint(b)?;
        let (written_at, tombstone) = (Time(stamp >> 1), stamp & 1 == 1);
        let context = get_clock(b)?;
        let len = usize::try_from(get_varint(b)?).ok()?;
        if b.len() < len {
            return None;
        }
        let (value, rest) = b.split_at(len);
        *b = rest;
        set.insert(Version {
            context,
            dot: Dot { actor, counter },
            value: Value::from(value),
            tombstone,
            written_at,
        });
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_reject_truncation() {
        let mut set = VersionSet::new();
        let a = set.write(
            NodeId(0),
            &VectorClock::new(),
            Value::from("one"),
            Time(5),
            0,
        );
        let mut ctx = VectorClock::new();
        ctx.merge(&a.clock());
        set.write(
            NodeId(1),
            &VectorClock::new(),
            Value::from("two"),
            Time(9),
            0,
        );
        let mut buf = Vec::new();
        encode_version_set(&set, &mut buf);
        assert_eq!(decode_version_set(&buf), Some(set));
        for cut in 0..buf.len() {
            // Every strict prefix is malformed or decodes to something else, never panics.
            let _ = decode_version_set(&buf[..cut]);
        }
        assert_eq!(decode_version_set(&buf[..buf.len() - 1]), None);
    }
}
