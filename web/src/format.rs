//! Colours, names and number formatting shared by the components.

use kvlab_core::{Actor, Dot, NodeId, Version};

/// Message kinds in the core's legend order (`MsgKind::ALL`): name, colour.
pub const KINDS: [(&str, &str); 10] = [
    ("gossip", "#98a2b3"),
    ("forward", "#7a5af8"),
    ("put", "#2e90fa"),
    ("put-ack", "#53b1fd"),
    ("get", "#12b76a"),
    ("get-reply", "#6ce9a6"),
    ("read-repair", "#f79009"),
    ("handoff", "#ee46bc"),
    ("handoff-ack", "#f9a8d4"),
    ("merkle", "#a15c07"),
];

/// The colour of a message kind by its index; grey for an unknown one.
pub fn kind_colour(i: usize) -> &'static str {
    KINDS.get(i).map_or("#98a2b3", |k| k.1)
}

/// The name of a message kind by its index.
pub fn kind_name(i: usize) -> &'static str {
    KINDS.get(i).map_or("?", |k| k.0)
}

/// A node's colour: hues a golden angle apart, so neighbours by id never look alike.
pub fn node_colour(i: u16) -> String {
    let hue = (f64::from(i) * 137.507_764).rem_euclid(360.0);
    format!("hsl({} 62% 48%)", fx(hue, 0))
}

/// A number with `decimals` digits after the point. Integer arithmetic on purpose: it keeps
/// the float formatting machinery out of the wasm bundle.
pub fn fx(v: f64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals.min(6));
    let scaled = (v * scale as f64).round();
    if !scaled.is_finite() {
        return "0".into();
    }
    let n = scaled as i64;
    let sign = if n < 0 { "-" } else { "" };
    let a = n.unsigned_abs();
    if decimals == 0 {
        format!("{sign}{a}")
    } else {
        let frac = (a % scale).to_string();
        let pad = "0".repeat(decimals as usize - frac.len());
        format!("{sign}{}.{pad}{frac}", a / scale)
    }
}

/// Bytes as "812 B", "3.4 KB", "1.2 MB".
pub fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{} KB", fx(n as f64 / 1024.0, 1))
    } else {
        format!("{} MB", fx(n as f64 / (1024.0 * 1024.0), 1))
    }
}

/// Milliseconds of simulated time as "850 ms" or "12.35 s".
pub fn sim_time(ms: u64) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{} s", fx(ms as f64 / 1000.0, 2))
    }
}

/// A value for display: UTF-8 text if it is, else a hex preview; long values are cut.
pub fn value_text(v: &[u8]) -> String {
    let s = match std::str::from_utf8(v) {
        Ok(s) => s.to_string(),
        Err(_) => v.iter().take(16).map(|b| format!("{b:02x}")).collect(),
    };
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(3482), "3.4 KB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(sim_time(850), "850 ms");
        assert_eq!(sim_time(12_345), "12.35 s");
        assert_eq!(value_text(b"D3"), "D3");
        assert_eq!(value_text(&[0xff, 0xfe]), "fffe");
        assert!(value_text("x".repeat(100).as_bytes()).ends_with('…'));
        assert_eq!(kind_name(3), "put-ack");
        assert_eq!(fx(1.234, 2), "1.23");
        assert_eq!(fx(-0.05, 1), "-0.1");
        assert_eq!(fx(2.0, 2), "2.00");
        assert_eq!(fx(-3.999, 0), "-4");
        assert_eq!(fx(0.5, 3), "0.500");
        assert_eq!(fx(f64::NAN, 1), "0");
        assert_eq!(kind_colour(99), "#98a2b3");
        assert_ne!(node_colour(0), node_colour(1));
    }
}

/// At most 40 characters of user text, for an error message (a pasted megabyte stays out).
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Parses a context typed by a user, `[Sx,2][Sy#1,1]` (spaces allowed, empty for a blind write),
/// into (actor, counter) pairs. Node names are looked up in `names`; `#e` names an epoch.
pub fn parse_context(s: &str, names: &[String]) -> Result<Vec<(Actor, u64)>, String> {
    let mut out: Vec<(Actor, u64)> = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some(body) = rest.strip_prefix('[') else {
            return Err(format!("expected “[” at “{}”", clip(rest)));
        };
        let Some(end) = body.find(']') else {
            return Err("missing “]”".into());
        };
        let inner = &body[..end];
        let Some((name, counter)) = inner.split_once(',') else {
            return Err(format!("“[{}]” is not [node,counter]", clip(inner)));
        };
        let (name, counter) = (name.trim(), counter.trim());
        // `S3#2` names S3's epoch 2 (a node starts a new epoch after a wipe or a handoff).
        let (node, epoch) = match name.split_once('#') {
            Some((n, e)) => match e.parse::<u32>() {
                Ok(e) => (n, e),
                Err(_) => return Err(format!("“{}” is not an epoch", clip(e))),
            },
            None => (name, 0),
        };
        let Some(idx) = names.iter().position(|n| n == node) else {
            return Err(format!("no node named “{}”", clip(node)));
        };
        let Ok(c) = counter.parse::<u64>() else {
            return Err(format!("“{}” is not a counter", clip(counter)));
        };
        if c == 0 {
            return Err(format!("the counter of {} must be at least 1", clip(name)));
        }
        let actor = Actor::new(NodeId(idx as u16), epoch);
        if out.iter().any(|&(a, _)| a == actor) {
            return Err(format!("{} appears twice", clip(name)));
        }
        out.push((actor, c));
        rest = body[end + 1..].trim_start();
    }
    Ok(out)
}

/// A dot as the page writes it: `(Sy,1)`, or `(Sy#1,3)` for an actor in a later epoch.
pub fn dot_text(d: Dot, names: &[String]) -> String {
    let name = names
        .get(d.actor.node.index())
        .cloned()
        .unwrap_or_else(|| d.actor.node.to_string());
    match d.actor.epoch {
        0 => format!("({name},{})", d.counter),
        e => format!("({name}#{e},{})", d.counter),
    }
}

/// Why versions are siblings, as the store decides it: a version supersedes exactly those whose
/// dot is in its context, and here no version's context holds another's dot.
pub fn why_concurrent(versions: &[Version], names: &[String]) -> String {
    let name = |n: NodeId| {
        names
            .get(n.index())
            .cloned()
            .unwrap_or_else(|| n.to_string())
    };
    let each: Vec<String> = versions
        .iter()
        .map(|v| {
            format!(
                "{} {} saw {}",
                value_text(v.value.as_bytes()),
                dot_text(v.dot, names),
                v.context.display_with(name)
            )
        })
        .collect();
    format!(
        "Concurrent: no version's context holds another's dot ({}). Each was written without seeing the others.",
        each.join("; ")
    )
}

#[cfg(test)]
mod context_tests {
    use super::{clip, parse_context};
    use kvlab_core::{Actor, NodeId};

    fn a(node: u16, epoch: u32) -> Actor {
        Actor::new(NodeId(node), epoch)
    }

    #[test]
    fn contexts_parse_or_say_why() {
        let names: Vec<String> = ["Sx", "Sy", "Sz"].iter().map(|s| s.to_string()).collect();
        assert_eq!(parse_context("", &names), Ok(vec![]));
        assert_eq!(
            parse_context("[Sx,2][Sy, 1] [Sz,1]", &names),
            Ok(vec![(a(0, 0), 2), (a(1, 0), 1), (a(2, 0), 1)])
        );
        assert_eq!(
            parse_context("[Sx#2,5][Sx,1]", &names),
            Ok(vec![(a(0, 2), 5), (a(0, 0), 1)])
        );
        for bad in [
            "Sx,2",
            "[Sx,2",
            "[Sq,1]",
            "[Sx,a]",
            "[Sx,0]",
            "[Sx,1][Sx,2]",
            "[Sx]",
            "[Sx#a,1]",
            "[Sx#1,1][Sx#1,2]",
        ] {
            assert!(parse_context(bad, &names).is_err(), "{bad}");
        }
        // A pasted megabyte gives a short error.
        let junk = "x".repeat(1 << 20);
        let e = parse_context(&junk, &names).unwrap_err();
        assert!(e.chars().count() < 80, "{} chars", e.len());
        assert_eq!(clip("short"), "short");
    }
}
