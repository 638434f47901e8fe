//! The one binary encoding of kvlab: version sets as the store keeps them, and every message as it
//! would cross a wire. Each encoder writes to a [`Sink`]: a buffer, or a [`Counter`] that adds up
//! lengths without allocating. Every byte count the simulator reports (a message's size, a Merkle
//! exchange's cost, a stored record's length) comes from counting these encoders.
//!
//! Integers are LEB128 varints, a key or a value is a varint length and its bytes, a sorted index
//! list is a varint count and its deltas, a hash is its [`crate::HASH_BYTES`] bytes, a message starts with
//! a one-byte tag.

use crate::merkle::MerkleMsg;
use crate::message::{MerkleWire, Msg, Request};
use crate::types::{Actor, Key, NodeId, Time, Value};
use crate::vclock::{Dot, VectorClock, Version, VersionSet};

/// Where an encoding goes.
pub(crate) trait Sink {
    fn put_u8(&mut self, b: u8);
    fn put_bytes(&mut self, b: &[u8]);
    fn put_varint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.put_u8((x as u8) | 0x80);
            x >>= 7;
        }
        self.put_u8(x as u8);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, b: u8) {
        self.push(b);
    }
    #[inline]
    fn put_bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// A sink that only counts: the length an encoding would have.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    #[inline]
    fn put_u8(&mut self, _: u8) {
        self.0 += 1;
    }
    #[inline]
    fn put_bytes(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    #[inline]
    fn put_varint(&mut self, x: u64) {
        self.0 += varint_len(x);
    }
}

/// The length of what `encode` writes.
#[inline]
pub(crate) fn counted(encode: impl FnOnce(&mut Counter)) -> usize {
    let mut c = Counter::default();
    encode(&mut c);
    c.0
}

/// Bytes of `x` as an LEB128 varint.
#[inline]
pub fn varint_len(x: u64) -> usize {
    (64 - (x | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bytes of a key on the wire: a varint length and the key's bytes.
pub fn key_len(key: &Key) -> usize {
    counted(|c| put_key(c, key))
}

/// Framing every message carries besides its encoding: sender, receiver and length.
pub const ENVELOPE_BYTES: usize = 16;

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

fn put_key<S: Sink>(out: &mut S, key: &Key) {
    put_str(out, key.as_str().as_bytes());
}

fn put_str<S: Sink>(out: &mut S, b: &[u8]) {
    out.put_varint(b.len() as u64);
    out.put_bytes(b);
}

/// An actor as one varint: the node in the low 16 bits, the epoch above (epoch 0 costs nothing).
fn put_actor<S: Sink>(out: &mut S, a: Actor) {
    out.put_varint(u64::from(a.node.0) | u64::from(a.epoch) << 16);
}

fn get_actor(bytes: &mut &[u8]) -> Option<Actor> {
    let x = get_varint(bytes)?;
    Some(Actor::new(
        NodeId((x & 0xFFFF) as u16),
        u32::try_from(x >> 16).ok()?,
    ))
}

fn put_dot<S: Sink>(out: &mut S, d: Dot) {
    put_actor(out, d.actor);
    out.put_varint(d.counter);
}

fn put_clock<S: Sink>(out: &mut S, c: &VectorClock) {
    out.put_varint(c.len() as u64);
    for e in c.entries() {
        put_actor(out, e.actor);
        out.put_varint(e.counter);
        out.put_varint(e.updated.0);
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

/// Writes the encoding of `set`.
pub(crate) fn put_version_set<S: Sink>(out: &mut S, set: &VersionSet) {
    out.put_varint(set.len() as u64);
    for v in set.versions() {
        put_dot(out, v.dot);
        out.put_varint(v.written_at.0 << 1 | u64::from(v.tombstone));
        put_clock(out, &v.context);
        put_str(out, v.value.as_bytes());
    }
}

/// Appends the encoding of `set` to `out`.
pub fn encode_version_set(set: &VersionSet, out: &mut Vec<u8>) {
    put_version_set(out, set);
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

/// A varint count, then the sorted values delta-coded as varints.
fn put_sorted<S: Sink>(out: &mut S, xs: impl ExactSizeIterator<Item = u32>) {
    out.put_varint(xs.len() as u64);
    let mut prev = 0;
    for x in xs {
        out.put_varint(u64::from(x.wrapping_sub(prev)));
        prev = x;
    }
}

fn put_records<S: Sink>(out: &mut S, records: &[(Key, VersionSet)]) {
    out.put_varint(records.len() as u64);
    for (k, set) in records {
        put_key(out, k);
        put_version_set(out, set);
    }
}

/// Writes one message of a Merkle descent.
pub(crate) fn put_merkle_msg<S: Sink>(out: &mut S, m: &MerkleMsg) {
    match m {
        MerkleMsg::Root { buckets, hash } => {
            out.put_u8(0);
            out.put_varint(u64::from(*buckets));
            out.put_bytes(&hash.0);
        }
        MerkleMsg::Nodes {
            level,
            parents,
            hashes,
        } => {
            out.put_u8(1);
            out.put_varint(u64::from(*level));
            put_sorted(out, parents.iter().copied());
            for h in hashes {
                out.put_bytes(&h.0);
            }
        }
        MerkleMsg::Items { buckets } => {
            out.put_u8(2);
            put_sorted(out, buckets.iter().map(|b| b.bucket));
            for b in buckets {
                out.put_varint(b.items.len() as u64);
                for (k, h) in &b.items {
                    put_key(out, k);
                    out.put_bytes(&h.0);
                }
            }
        }
    }
}

fn put_request<S: Sink>(out: &mut S, r: &Request) {
    match r {
        Request::Get { key } => {
            out.put_u8(0);
            put_key(out, key);
        }
        Request::Put {
            key,
            value,
            context,
        } => {
            out.put_u8(1);
            put_key(out, key);
            put_str(out, value.as_bytes());
            put_clock(out, context);
        }
    }
}

/// Writes `msg`, its kind's tag first.
pub(crate) fn put_msg<S: Sink>(out: &mut S, msg: &Msg) {
    out.put_u8(msg.kind().index() as u8);
    match msg {
        Msg::Gossip { digest } => {
            out.put_varint(digest.len() as u64);
            for (n, heartbeat) in digest {
                out.put_varint(u64::from(n.0));
                out.put_varint(*heartbeat);
            }
        }
        Msg::Forward { req, request, hops } => {
            out.put_varint(req.0);
            out.put_u8(*hops);
            put_request(out, request);
        }
        Msg::Put {
            req,
            key,
            versions,
            hint,
        } => {
            out.put_varint(req.0);
            put_key(out, key);
            put_version_set(out, versions);
            out.put_varint(hint.map_or(0, |h| u64::from(h.0) + 1));
        }
        Msg::PutAck { req } => out.put_varint(req.0),
        Msg::Get { req, key } => {
            out.put_varint(req.0);
            put_key(out, key);
        }
        Msg::GetReply { req, versions } => {
            out.put_varint(req.0);
            put_version_set(out, versions);
        }
        Msg::ReadRepair { key, versions } => {
            put_key(out, key);
            put_version_set(out, versions);
        }
        Msg::Handoff { records } => put_records(out, records),
        Msg::HandoffAck { keys } => {
            out.put_varint(keys.len() as u64);
            for (k, dots) in keys {
                put_key(out, k);
                out.put_varint(dots.len() as u64);
                for d in dots {
                    put_dot(out, *d);
                }
            }
        }
        Msg::Merkle {
            range,
            exchange,
            step,
        } => {
            out.put_varint(range.0);
            out.put_varint(*exchange);
            match step {
                MerkleWire::Tree(m) => {
                    out.put_u8(0);
                    put_merkle_msg(out, m);
                }
                MerkleWire::Records {
                    buckets,
                    records,
                    pull,
                    reply,
                } => {
                    out.put_u8(1);
                    put_sorted(out, buckets.iter().copied());
                    put_records(out, records);
                    out.put_varint(pull.len() as u64);
                    for k in pull {
                        put_key(out, k);
                    }
                    out.put_u8(u8::from(*reply));
                }
                MerkleWire::InSync => out.put_u8(2),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionSet {
        let mut set = VersionSet::new();
        let a = set.write(
            NodeId(0),
            &VectorClock::new(),
            Value::from("one"),
            Time(5),
            0,
        );
        set.write(NodeId(1), &a.clock(), Value::from("two"), Time(9), 0);
        set.write(
            NodeId(300),
            &VectorClock::new(),
            Value::from("three"),
            Time(1 << 40),
            0,
        );
        set
    }

    #[test]
    fn roundtrip_and_reject_truncation() {
        let set = sample();
        let mut buf = Vec::new();
        encode_version_set(&set, &mut buf);
        assert_eq!(decode_version_set(&buf), Some(set));
        for cut in 0..buf.len() {
            // Every strict prefix is malformed or decodes to something else, never panics.
            let _ = decode_version_set(&buf[..cut]);
        }
        assert_eq!(decode_version_set(&buf[..buf.len() - 1]), None);
    }

    #[test]
    fn counting_agrees_with_encoding() {
        let set = sample();
        let mut buf = Vec::new();
        put_version_set(&mut buf, &set);
        assert_eq!(counted(|c| put_version_set(c, &set)), buf.len());
        for x in [0, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut b = Vec::new();
            b.put_varint(x);
            assert_eq!(varint_len(x), b.len(), "{x}");
        }
        let msg = Msg::Handoff {
            records: vec![(Key::from("k"), set)],
        };
        let mut buf = Vec::new();
        put_msg(&mut buf, &msg);
        assert_eq!(counted(|c| put_msg(c, &msg)), buf.len());
        assert_eq!(msg.wire_bytes(), ENVELOPE_BYTES + buf.len());
    }
}
