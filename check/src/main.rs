//! `kvlab-check [NAME...] [--small] [--threads N] [--timeout SECS] [--json DIR]`: explore the named
//! configurations (all by default, the small ones with `--small`) and print one report each.
//! Exits non-zero when a configuration's check does not find what it must.
//!
//! `kvlab-check NAME --explore [ADDR]`: serve Stateright's Explorer for one configuration (a web
//! UI, by default on localhost:3000) to walk its states by hand; runs until interrupted.

use kvlab_check::{specs, Expect};
use std::process::exit;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut names = Vec::new();
    let mut small = false;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut timeout = None;
    let mut json = None;
    let mut explore = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--small" => small = true,
            "--threads" => threads = it.next().and_then(|n| n.parse().ok()).unwrap_or(threads),
            "--timeout" => {
                timeout = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .map(Duration::from_secs)
            }
            "--json" => json = it.next().cloned(),
            "--explore" => {
                let addr = it.next_if(|a| !a.starts_with("--") && a.contains(':'));
                explore = Some(addr.cloned().unwrap_or_else(|| "localhost:3000".into()));
            }
            "--list" => {
                for (s, e) in specs() {
                    println!(
                        "{:10} {}{} — {:?}",
                        s.name,
                        if s.small { "[small] " } else { "" },
                        s.about,
                        e
                    );
                }
                return;
            }
            name => names.push(name.to_owned()),
        }
    }
    let chosen: Vec<_> = specs()
        .into_iter()
        .filter(|(s, _)| {
            if names.is_empty() {
                !small || s.small
            } else {
                names.contains(&s.name)
            }
        })
        .collect();
    if chosen.is_empty() {
        eprintln!("no configuration named {names:?}; `--list` lists them");
        exit(2);
    }
    if let Some(addr) = explore {
        let [(spec, _)] = chosen.as_slice() else {
            eprintln!("--explore takes exactly one configuration's name");
            exit(2);
        };
        let Err(e) = kvlab_check::explore(spec.clone(), threads, &addr);
        eprintln!("{e}");
        exit(2);
    }
    let mut failed = 0;
    for (spec, expect) in chosen {
        println!("==> {} ({})", spec.name, spec.about);
        let shortest = matches!(expect, Expect::Counterexample(_));
        let report = match kvlab_check::run(spec, threads, timeout, shortest) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("invalid configuration: {e}");
                failed += 1;
                continue;
            }
        };
        print!("{report}");
        let as_expected = match expect {
            Expect::Pass => report.ok(),
            Expect::Counterexample(p) => report.verdict(p).is_some_and(|v| !v.holds),
        };
        if let Some(dir) = &json {
            let path = std::path::Path::new(dir).join(format!("{}.json", report.name));
            match serde_json::to_string_pretty(&report) {
                Ok(text) => {
                    if let Err(e) = std::fs::write(&path, text) {
                        eprintln!("could not write {}: {e}", path.display());
                    }
                }
                Err(e) => eprintln!("could not encode the report: {e}"),
            }
        }
        println!(
            "    {}",
            if as_expected {
                "as expected"
            } else {
                "NOT AS EXPECTED"
            }
        );
        failed += u32::from(!as_expected);
    }
    if failed > 0 {
        exit(1);
    }
}
