//! `cargo xtask serve | test | bench | mutants | check`: install what is missing, then build, serve or check.
//!
//! Every tool is pinned; each is installed only when the version on PATH differs, so a second run
//! starts in seconds and nothing is downloaded at build time.

use std::env;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};
use std::time::{Instant, SystemTime};

const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `=` pin of wasm-bindgen in the workspace Cargo.toml and `[tools]` in Trunk.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const WASM_OPT_VERSION: &str = "version_132";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The newest release (2026-11); its MSRV, 1.88, is under our 1.95. Only `cargo xtask mutants` installs it.
const CARGO_MUTANTS_VERSION: &str = "27.1.0";

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root).expect("cd to the project root");
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("mutants") => mutants(&args[1..]),
        Some("check") => check(&args[1..]),
        Some("install") => install_all(true),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  serve [--port P]   install what is missing, build the page (release), serve it\n  test [--skip-browser]  every check CI runs, ending with `N passed, N failed`\n  bench              run the benchmarks and print their figures\n  mutants [--file F]... [-- ARGS]  mutation-test the core with cargo-mutants (takes hours; ARGS go to it)\n  check [NAME]... [--small] [--list] [--threads N] [--timeout SECS] [--json DIR] [--explore [ADDR]]  model-check configurations exhaustively (Stateright); --explore serves its Explorer for one\n  install            install every tool serve and test need"
            );
            exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("\nxtask: error: {e}");
        exit(1);
    }
}

type Res<T = ()> = Result<T, String>;

fn project_root() -> PathBuf {
    let dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env::current_dir().expect("cwd"));
    dir.ancestors()
        .find(|p| p.join("Trunk.toml").exists())
        .map(Path::to_path_buf)
        .unwrap_or(dir)
}

/// PATH with cargo's bin dir and node_modules/.bin (wasm-opt from binaryen) in front.
fn tool_path() -> OsString {
    let mut parts: Vec<PathBuf> = vec![PathBuf::from("node_modules/.bin")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("node_modules/.bin"))];
    if let Some(home) = cargo_home() {
        parts.push(home.join("bin"));
    }
    if let Some(p) = env::var_os("PATH") {
        parts.extend(env::split_paths(&p));
    }
    env::join_paths(parts).expect("PATH")
}

fn cargo_home() -> Option<PathBuf> {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", tool_path());
    c
}

fn show(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn run(mut c: Command) -> Res {
    println!("$ {}", show(&c));
    let status = c
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", show(&c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(&c)))
    }
}

/// First line of `program args...` (e.g. `--version`), if it runs.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let out = cmd(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

fn announce(what: &str, why: &str, how_long: &str) {
    println!("\n==> installing {what}: {why}. {how_long}");
}

fn ensure_wasm_target() -> Res {
    let out = cmd("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add the {WASM_TARGET} target: {e}"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    announce(
        WASM_TARGET,
        "the core and the page compile to WebAssembly",
        "Takes under a minute.",
    );
    let mut c = cmd("rustup");
    c.args(["target", "add", WASM_TARGET]);
    run(c)
}

fn cargo_install(krate: &str, version: &str, locked: bool) -> Res {
    let mut c = cmd("cargo");
    c.args(["install", krate, "--version", version]);
    if locked {
        c.arg("--locked");
    }
    // These are tools, not the product: a faster build beats a few percent of their speed.
    c.env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    run(c)
}

fn ensure_trunk() -> Res {
    if version_of("trunk", &["--version"]).as_deref() == Some(&format!("trunk {TRUNK_VERSION}")) {
        return Ok(());
    }
    announce(
        &format!("trunk {TRUNK_VERSION}"),
        "it builds and serves the page (0.22 needs a newer rustc than 1.95)",
        "The first install compiles it and takes about 5 minutes.",
    );
    cargo_install("trunk", TRUNK_VERSION, true)
}

fn ensure_cargo_mutants() -> Res {
    let want = format!("cargo-mutants {CARGO_MUTANTS_VERSION}");
    if version_of("cargo-mutants", &["mutants", "--version"]).as_deref() == Some(&want) {
        return Ok(());
    }
    announce(
        &want,
        "it mutates the core's code and checks that the tests notice (only `cargo xtask mutants` needs it)",
        "The first install compiles it and takes about 2 minutes.",
    );
    cargo_install("cargo-mutants", CARGO_MUTANTS_VERSION, true)
}

fn ensure_wasm_bindgen() -> Res {
    let want = format!("wasm-bindgen {WASM_BINDGEN_VERSION}");
    if version_of("wasm-bindgen", &["--version"]).as_deref() == Some(&want)
        && version_of("wasm-bindgen-test-runner", &["--version"]).is_some()
    {
        return Ok(());
    }
    announce(
        &format!("wasm-bindgen-cli {WASM_BINDGEN_VERSION}"),
        "Trunk runs it on the page and the wasm tests run under its test runner; it must equal the crate version in Cargo.lock",
        "The first install compiles it and takes about 3 minutes.",
    );
    // Not --locked: its lockfile names a crate version the registry lacks.
    cargo_install("wasm-bindgen-cli", WASM_BINDGEN_VERSION, false)
}

fn ensure_npm() -> Res {
    let stamp = Path::new("node_modules/.package-lock.json");
    let lock = Path::new("package-lock.json");
    let fresh = match (stamp.metadata(), lock.metadata()) {
        (Ok(s), Ok(l)) => match (s.modified(), l.modified()) {
            (Ok(s), Ok(l)) => s >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh
        && version_of("node_modules/.bin/wasm-opt", &["--version"])
            .is_some_and(|v| v.contains(WASM_OPT_VERSION))
    {
        return Ok(());
    }
    announce(
        "npm packages (binaryen@132, playwright-core)",
        "wasm-opt shrinks the page's wasm; playwright-core drives Chromium in the browser tests",
        "Takes under a minute.",
    );
    let mut c = cmd("npm");
    c.args(["ci", "--no-audit", "--no-fund"]);
    run(c)
}

fn ensure_chromium() -> Res {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    announce(
        "Debian's chromium and chromium-driver",
        "the browser tests drive the real page in headless Chromium",
        "Takes 1-3 minutes.",
    );
    let sudo = if is_root() { None } else { Some("sudo") };
    let apt = |args: &[&str]| {
        let mut c = match sudo {
            Some(s) => {
                let mut c = cmd(s);
                c.arg("apt-get");
                c
            }
            None => cmd("apt-get"),
        };
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(apt(&["update", "-q"]))?;
    run(apt(&["install", "-y", "-q", "chromium", "chromium-driver"]))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn install_all(browser: bool) -> Res {
    let t = Instant::now();
    ensure_wasm_target()?;
    ensure_npm()?;
    ensure_wasm_bindgen()?;
    ensure_trunk()?;
    if browser {
        ensure_chromium()?;
    }
    println!(
        "==> tools ready ({:.1}s): trunk {TRUNK_VERSION}, wasm-bindgen {WASM_BINDGEN_VERSION}, wasm-opt {WASM_OPT_VERSION}",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn serve(args: &[String]) -> Res {
    let mut port = env::var("PORT").unwrap_or_else(|_| "8080".into());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => port = it.next().ok_or("--port needs a number")?.clone(),
            other => return Err(format!("unknown option for serve: {other}")),
        }
    }
    port.parse::<u16>()
        .map_err(|_| format!("--port must be a number from 1 to 65535, not `{port}`"))?;
    install_all(false)?;
    println!("\n==> building the page (release) and serving it at http://127.0.0.1:{port}/  (Ctrl-C stops)");
    let mut c = cmd("trunk");
    c.args([
        "serve",
        "--release",
        "--port",
        &port,
        "--address",
        "127.0.0.1",
    ]);
    run(c)
}

/// One step of `cargo xtask test`; `suites` counts the suites it ran (test binaries, browser files).
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    fn finish(&self) -> ! {
        println!("\n{} passed, {} failed", self.passed, self.failed);
        exit(if self.failed == 0 { 0 } else { 1 });
    }
}

/// Runs `c`, echoing each line of its stdout and handing it to `on_line`; returns whether it succeeded.
fn run_echoing(mut c: Command, mut on_line: impl FnMut(&str)) -> Res<bool> {
    println!("$ {}", show(&c));
    c.stdout(Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", show(&c)))?;
    let out = child.stdout.take().expect("piped stdout");
    let mut stdout = std::io::stdout();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap_or_default();
        let _ = writeln!(stdout, "{line}");
        on_line(line.trim_start());
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok(status.success())
}

/// Runs `c` and counts suites from its result lines. Returns (suites ok, suites failed, status ok).
fn run_counting(c: Command) -> Res<(usize, usize, bool)> {
    let (mut ok, mut bad) = (0, 0);
    let success = run_echoing(c, |t| {
        // cargo test / wasm-bindgen-test-runner: one "test result:" line per test binary.
        if t.starts_with("test result: ok") {
            ok += 1;
        } else if t.starts_with("test result: FAILED") {
            bad += 1;
        }
        // node --test (TAP summary): "# pass N" / "# fail N" count test files' tests.
        if let Some(n) = t.strip_prefix("# pass ") {
            ok += n.trim().parse::<usize>().unwrap_or(0);
        }
        if let Some(n) = t.strip_prefix("# fail ") {
            bad += n.trim().parse::<usize>().unwrap_or(0);
        }
    })?;
    Ok((ok, bad, success))
}

/// `cargo run` of the model checker (check/, kvlab-check) with `args`, in the `model-check` profile:
/// optimized, but without LTO, so it builds in about half a minute.
fn model_check(args: &[&str]) -> Command {
    let mut c = cmd("cargo");
    c.args(["run", "--profile", "model-check", "-p", "kvlab-check", "--"]);
    c.args(args);
    c
}

/// `cargo xtask check [NAME]...`: explore the named model configurations (all by default; the
/// large ones take minutes, see `--list`).
fn check(args: &[String]) -> Res {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(model_check(&args))
}

fn test(args: &[String]) -> Res {
    let skip_browser = args.iter().any(|a| a == "--skip-browser");
    let started = Instant::now();
    let mut tally = Tally {
        passed: 0,
        failed: 0,
    };
    let step = |tally: &mut Tally, name: &str, c: Command, counting: bool| {
        println!("\n==> {name}");
        let t = Instant::now();
        let (ok, bad, success) = if counting {
            match run_counting(c) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    (0, 0, false)
                }
            }
        } else {
            match run(c) {
                Ok(()) => (1, 0, true),
                Err(e) => {
                    eprintln!("{e}");
                    (0, 1, false)
                }
            }
        };
        tally.passed += ok;
        tally.failed += bad;
        if !success {
            if bad == 0 {
                tally.failed += 1;
            }
            eprintln!(
                "\nxtask test: step `{name}` failed; stopping here (later steps did not run)."
            );
            tally.finish();
        }
        println!("==> {name}: ok ({:.1}s)", t.elapsed().as_secs_f64());
    };

    println!("==> installing what is missing");
    if let Err(e) = install_all(!skip_browser) {
        eprintln!("{e}\nxtask test: installing the tools failed.");
        tally.failed += 1;
        tally.finish();
    }

    let mut c = cmd("cargo");
    c.args(["fmt", "--all", "--check"]);
    step(&mut tally, "cargo fmt --check", c, false);

    let mut c = cmd("cargo");
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    step(&mut tally, "cargo clippy", c, false);

    let mut c = cmd("cargo");
    c.args(["test", "--workspace"]);
    step(&mut tally, "cargo test --workspace", c, true);

    // The swarm sweep in release, judged by the history oracle: 5,000 seeds (about half a minute)
    // plus the last-write-wins negative control, which the oracle must catch.
    let mut c = cmd("cargo");
    c.args(["test", "--release", "--test", "sweep", "--", "--nocapture"]);
    c.env("KVLAB_SEEDS", "5000");
    step(&mut tally, "swarm sweep, 5,000 seeds (release)", c, true);

    // The model checker's small configurations, exhaustively, and its last-write-wins negative
    // control, which must yield a counterexample (a few seconds after the build).
    step(
        &mut tally,
        "model check, small configurations",
        model_check(&["--small"]),
        false,
    );

    let mut c = cmd("cargo");
    c.args([
        "test",
        "-p",
        "kvlab-core",
        "--target",
        WASM_TARGET,
        "--test",
        "determinism",
    ]);
    step(&mut tally, "core determinism under wasm32 (Node)", c, true);

    let mut c = cmd("trunk");
    c.args(["build", "--release"]);
    step(&mut tally, "trunk build --release", c, false);

    println!("\n==> bundle size");
    match bundle_report(Path::new("dist")) {
        Ok(report) => {
            println!("{report}");
            tally.passed += 1;
        }
        Err(e) => {
            eprintln!("bundle report failed: {e}");
            tally.failed += 1;
            tally.finish();
        }
    }

    if skip_browser {
        println!("\n==> browser tests skipped (--skip-browser)");
    } else {
        let mut c = cmd("node");
        c.args([
            "--test",
            "--test-concurrency=1",
            "--test-reporter=tap",
            "tests/browser/",
        ]);
        step(&mut tally, "browser tests (headless Chromium)", c, true);
    }
    println!(
        "\nall steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    tally.finish();
}

/// Raw and gzip sizes of the wasm and js files Trunk wrote.
fn bundle_report(dist: &Path) -> Res<String> {
    use flate2::{write::GzEncoder, Compression};
    let mut lines = Vec::new();
    let (mut raw_total, mut gz_total) = (0usize, 0usize);
    let mut entries: Vec<_> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js")))
        .collect();
    entries.sort();
    if entries.is_empty() {
        return Err("no .wasm or .js in dist/".into());
    }
    for p in entries {
        let bytes = std::fs::read(&p).map_err(|e| e.to_string())?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&bytes).map_err(|e| e.to_string())?;
        let gz = gz.finish().map_err(|e| e.to_string())?;
        raw_total += bytes.len();
        gz_total += gz.len();
        lines.push(format!(
            "  {:<40} {:>9} B raw {:>9} B gzip",
            p.file_name().unwrap_or_default().to_string_lossy(),
            bytes.len(),
            gz.len()
        ));
    }
    lines.push(format!(
        "  {:<40} {:>9} B raw {:>9} B gzip ({:.1} KiB gzip)",
        "total (wasm + js)",
        raw_total,
        gz_total,
        gz_total as f64 / 1024.0
    ));
    Ok(lines.join("\n"))
}

/// Runs every benchmark of the core, then the simulator's standard workload under wasm32 (Node),
/// and prints the wasm/native throughput ratio.
fn bench(args: &[String]) -> Res {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    let native = capture_rates({
        let mut c = cmd("cargo");
        c.args(["bench", "-p", "kvlab-core"]);
        c.args(args);
        c
    })?;
    let wasm = capture_rates({
        let mut c = cmd("cargo");
        c.args([
            "test",
            "--release",
            "-p",
            "kvlab-core",
            "--target",
            WASM_TARGET,
            "--test",
            "wasm_throughput",
            "--",
            "--nocapture",
        ]);
        c
    })?;
    println!("\nsimulator throughput, wasm32 (Node) vs native, standard workload");
    println!(
        "{:>6} {:>14} {:>14} {:>8}",
        "nodes", "native msg/s", "wasm msg/s", "ratio"
    );
    for (nodes, n) in &native {
        if let Some((_, w)) = wasm.iter().find(|(m, _)| m == nodes) {
            println!("{nodes:>6} {n:>14.0} {w:>14.0} {:>8.2}", w / n);
        }
    }
    Ok(())
}

/// Runs `c` and collects its `KVLAB_RATE <nodes> <msgs/s>` lines.
fn capture_rates(c: Command) -> Res<Vec<(u64, f64)>> {
    let shown = show(&c);
    let mut rates = Vec::new();
    let success = run_echoing(c, |t| {
        let mut it = t
            .strip_prefix("KVLAB_RATE ")
            .into_iter()
            .flat_map(str::split_whitespace);
        if let (Some(Ok(n)), Some(Ok(r))) = (it.next().map(str::parse), it.next().map(str::parse)) {
            rates.push((n, r));
        }
    })?;
    if !success {
        return Err(format!("`{shown}` failed"));
    }
    Ok(rates)
}

/// What `cargo xtask mutants` mutates when no `--file` is given: the protocols and the simulator.
const MUTANTS_FILES: &[&str] = &[
    "core/src/node.rs",
    "core/src/vclock.rs",
    "core/src/gossip.rs",
    "core/src/merkle.rs",
    "core/src/sim/",
];
/// cargo-mutants' `--output`: it writes `mutants.out/` in here.
const MUTANTS_OUTPUT: &str = "target/mutants";
/// The Cargo.toml profile mutants are built and tested in: release without LTO.
const MUTANTS_PROFILE: &str = "release-mutants";
/// Each mutant's tests may take this many times the unmutated tests' time before it counts as hung.
const MUTANTS_TIMEOUT_MULTIPLIER: f64 = 3.0;

/// Mutation-tests kvlab-core: cargo-mutants builds each mutant of the chosen files and runs the core's
/// tests and the cross-module suites in tests/ (package `kvlab`) against it. Ends with the outcome
/// counts and the missed mutants.
fn mutants(args: &[String]) -> Res {
    let (ours, extra) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let mut files = Vec::new();
    let mut it = ours.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--file" | "-f" => files.push(it.next().ok_or("--file needs a path")?.clone()),
            other => {
                return Err(format!(
                    "unknown option for mutants: {other} (cargo-mutants' own options go after `--`)"
                ))
            }
        }
    }
    if files.is_empty() {
        files = MUTANTS_FILES.iter().map(|f| f.to_string()).collect();
    }
    // cargo-mutants' options (before a second `--`, after which come `cargo test`'s).
    let theirs = extra.split(|a| a == "--").next().unwrap_or_default();
    let has = |names: &[&str]| {
        theirs.iter().any(|a| {
            names
                .iter()
                .any(|n| a == n || a.starts_with(&format!("{n}=")))
        })
    };
    let listing = has(&["--list", "--list-files"]);
    let own_timeout = has(&[
        "--timeout",
        "-t",
        "--timeout-multiplier",
        "--minimum-test-timeout",
    ]);
    ensure_cargo_mutants()?;

    let mut c = cmd("cargo");
    c.args([
        "mutants",
        "--package",
        "kvlab-core",
        // The core's tests alone miss what only the cross-module suites (sweep, faults, ...) catch.
        "--test-package",
        "kvlab-core,kvlab",
        "--profile",
        MUTANTS_PROFILE,
        // Don't copy node_modules/, dist/ or target/ into each scratch tree.
        "--gitignore=true",
        "--output",
        MUTANTS_OUTPUT,
    ]);
    if !listing {
        let suites = unmutated_suites()?;
        // cargo-mutants scales its timeout from its unmutated run, which tests kvlab-core only;
        // the floor scales it from all the suites, timed just now.
        let floor = (MUTANTS_TIMEOUT_MULTIPLIER * suites).max(20.0).ceil();
        if !own_timeout {
            c.args([
                "--timeout-multiplier".to_string(),
                MUTANTS_TIMEOUT_MULTIPLIER.to_string(),
                "--minimum-test-timeout".to_string(),
                floor.to_string(),
            ]);
        }
    }
    for f in &files {
        // cargo-mutants takes globs: a directory stands for every file under it.
        let glob = if f.ends_with('/') || Path::new(f).is_dir() {
            format!("{}/**", f.trim_end_matches('/'))
        } else {
            f.clone()
        };
        c.args(["--file", &glob]);
    }
    c.args(extra);
    // Each scratch tree must build in its own target/: a shared one would mix mutated builds with ours.
    c.env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR");

    // cargo-mutants creates mutants.out but not its parent (target/ is elsewhere with CARGO_TARGET_DIR).
    std::fs::create_dir_all(MUTANTS_OUTPUT).map_err(|e| format!("{MUTANTS_OUTPUT}: {e}"))?;
    let started = SystemTime::now();
    let t = Instant::now();
    println!("\n==> mutation testing");
    println!("$ {}", show(&c));
    let status = c
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", show(&c)))?;
    let out = Path::new(MUTANTS_OUTPUT).join("mutants.out");
    // `--list` and failed starts write no outcomes: don't summarize an earlier run.
    let fresh = out
        .join("outcomes.json")
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|m| m >= started);
    if fresh {
        println!("{}", mutants_summary(&out, t.elapsed().as_secs()));
    }
    match status.code() {
        Some(0) => Ok(()),
        // 2: some mutants were missed, 3: some timed out. The summary says which; scripts get the code.
        Some(code @ (2 | 3)) => exit(code),
        Some(4) => Err(format!(
            "the core's tests fail without any mutation; see {}",
            out.join("log/baseline.log").display()
        )),
        _ => Err(format!("`cargo mutants` failed ({status})")),
    }
}

/// Runs the tests every mutant gets, unmutated, and returns how long they took in seconds.
///
/// cargo-mutants 27.1's own unmutated run tests only the mutated package (kvlab-core), not the
/// `--test-package` list: were tests/ failing already, every mutant would count as caught.
fn unmutated_suites() -> Res<f64> {
    println!("\n==> unmutated: kvlab-core's tests and tests/ (profile {MUTANTS_PROFILE})");
    let suites = |extra: &str| {
        let mut c = cmd("cargo");
        c.args([
            "test",
            "--profile",
            MUTANTS_PROFILE,
            "-p",
            "kvlab-core",
            "-p",
            "kvlab",
            extra,
        ]);
        c
    };
    run(suites("--no-run"))?;
    let t = Instant::now();
    run(suites("--quiet")).map_err(|e| {
        format!("{e}: the tests fail without any mutation, so mutation testing would tell nothing")
    })?;
    let secs = t.elapsed().as_secs_f64();
    println!("==> unmutated tests pass in {secs:.1}s");
    Ok(secs)
}

/// Outcome counts and the missed mutants, from cargo-mutants' per-outcome lists in `out`.
fn mutants_summary(out: &Path, secs: u64) -> String {
    let list = |name: &str| -> Vec<String> {
        std::fs::read_to_string(out.join(name))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let missed = list("missed.txt");
    let mut s = format!(
        "\n==> mutants ({}m {:02}s): {} caught, {} missed, {} timeout, {} unviable; results in {}/",
        secs / 60,
        secs % 60,
        list("caught.txt").len(),
        missed.len(),
        list("timeout.txt").len(),
        list("unviable.txt").len(),
        out.display()
    );
    if !missed.is_empty() {
        s.push_str("\nmissed (the tests pass with this change):");
        for m in &missed {
            s.push_str("\n  ");
            s.push_str(m);
        }
    }
    s
}
