//! The URL fragment: seed, cluster settings, workload, scenario and step, so a link reproduces a view.
//! `#seed=7&nodes=8&vnodes=8&n=3&r=2&w=2&lmin=5&lmax=30&loss=0&wl=0` or `#sc=s2&step=3`.

use crate::format::clip;

/// What a fragment holds. Numbers are kept as parsed; `Config::validate` judges them later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Seed of the run.
    pub seed: u64,
    /// Physical nodes.
    pub nodes: u16,
    /// Tokens per node.
    pub vnodes: u16,
    /// Replicas.
    pub n: u8,
    /// Read quorum.
    pub r: u8,
    /// Write quorum.
    pub w: u8,
    /// Smallest latency, ms.
    pub lmin: u64,
    /// Largest latency, ms.
    pub lmax: u64,
    /// Message loss, percent.
    pub loss: u32,
    /// Workload clients (0: no background traffic).
    pub wl: u32,
    /// Guided scenario id ("s1" … "s5").
    pub scenario: Option<String>,
    /// Scenario step.
    pub step: usize,
}

impl Default for Fragment {
    fn default() -> Self {
        Fragment {
            seed: 1,
            nodes: 8,
            vnodes: 8,
            n: 3,
            r: 2,
            w: 2,
            lmin: 5,
            lmax: 30,
            loss: 0,
            // A few clients, so a first Play shows reads and writes, not only gossip.
            wl: 4,
            scenario: None,
            step: 0,
        }
    }
}

fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("“{}” is not a valid number", clip(&format!("{key}={v}"))))
}

/// Decodes `%XX` escapes (a link may arrive as `#seed=%31`); `None` if they do not spell UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a fragment (with or without its leading `#`). Unknown keys and bad numbers are errors,
/// so a mangled link says so instead of silently showing something else.
pub fn parse(s: &str) -> Result<Fragment, String> {
    let s = s.strip_prefix('#').unwrap_or(s).trim();
    let Some(decoded) = percent_decode(s) else {
        return Err(format!("“{}” has a bad %-escape", clip(s)));
    };
    let s = decoded.as_str();
    let mut f = Fragment::default();
    if s.is_empty() {
        return Ok(f);
    }
    for part in s.split('&').filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("“{}” is not key=value", clip(part)));
        };
        match k {
            "seed" => f.seed = num(k, v)?,
            "nodes" => f.nodes = num(k, v)?,
            "vnodes" => f.vnodes = num(k, v)?,
            "n" => f.n = num(k, v)?,
            "r" => f.r = num(k, v)?,
            "w" => f.w = num(k, v)?,
            "lmin" => f.lmin = num(k, v)?,
            "lmax" => f.lmax = num(k, v)?,
            "loss" => {
                f.loss = num(k, v)?;
                if f.loss > 100 {
                    return Err(format!("“loss={}” is over 100 percent", clip(v)));
                }
            }
            "wl" => f.wl = num(k, v)?,
            "sc" => {
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(format!("“sc={}” is not a scenario id", clip(v)));
                }
                f.scenario = Some(v.to_string());
            }
            "step" => f.step = num(k, v)?,
            _ => return Err(format!("unknown setting “{}”", clip(k))),
        }
    }
    Ok(f)
}

/// The fragment text (with `#`). A scenario link carries only the scenario and step: the
/// scenario fixes its own cluster.
pub fn encode(f: &Fragment) -> String {
    if let Some(sc) = &f.scenario {
        return format!("#sc={sc}&step={}", f.step);
    }
    format!(
        "#seed={}&nodes={}&vnodes={}&n={}&r={}&w={}&lmin={}&lmax={}&loss={}&wl={}",
        f.seed, f.nodes, f.vnodes, f.n, f.r, f.w, f.lmin, f.lmax, f.loss, f.wl
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let f = Fragment {
            seed: u64::MAX,
            nodes: 32,
            loss: 5,
            wl: 150,
            ..Fragment::default()
        };
        assert_eq!(parse(&encode(&f)), Ok(f));
        assert_eq!(
            parse("#seed=%31&nodes=%33%32").map(|f| (f.seed, f.nodes)),
            Ok((1, 32))
        );
        assert!(parse("#seed=%3").is_err());
        let long = format!("#{}", "x".repeat(100_000));
        assert!(parse(&long).unwrap_err().chars().count() < 80);
        let sc = Fragment {
            scenario: Some("s2".into()),
            step: 3,
            ..Fragment::default()
        };
        assert_eq!(parse(&encode(&sc)), Ok(sc));
    }

    #[test]
    fn empty_is_the_default() {
        assert_eq!(parse(""), Ok(Fragment::default()));
        assert_eq!(parse("#"), Ok(Fragment::default()));
        assert_eq!(parse("#seed=9").map(|f| f.seed), Ok(9));
    }

    #[test]
    fn mangled_fragments_are_errors_that_say_why() {
        for bad in [
            "#seed=abc",
            "#nodes=-1",
            "#zzz",
            "#what=1",
            "#n=999",
            "#loss=101",
            "#sc=<script>",
            "#seed=1&&&nodes",
            "#%%%",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.is_empty());
        }
        assert!(parse("#seed=abc").unwrap_err().contains("seed=abc"));
    }
}
