//! `cargo xtask serve | test | bench`: install what is missing, then build, serve or check.
//!
//! Every tool is pinned; each is installed only when the version on PATH differs, so a second run
//! starts in seconds and nothing is downloaded at build time.

use std::env;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};
use std::time::Instant;

const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `=` pin of wasm-bindgen in the workspace Cargo.toml and `[tools]` in Trunk.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const WASM_OPT_VERSION: &str = "version_132";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root).expect("cd to the project root");
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("install") => install_all(true),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  serve [--port P]   install what is missing, build the page (release), serve it\n  test [--skip-browser]  every check CI runs, ending with `N passed, N failed`\n  bench              run the benchmarks and print their figures\n  install            install every tool serve and test need"
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

/// First line of `program --version`, if it runs.
fn version_of(program: &str, arg: &str) -> Option<String> {
    let out = cmd(program).arg(arg).output().ok()?;
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
    if version_of("trunk", "--version").as_deref() == Some(&format!("trunk {TRUNK_VERSION}")) {
        return Ok(());
    }
    announce(
        &format!("trunk {TRUNK_VERSION}"),
        "it builds and serves the page (0.22 needs a newer rustc than 1.95)",
        "The first install compiles it and takes about 5 minutes.",
    );
    cargo_install("trunk", TRUNK_VERSION, true)
}

fn ensure_wasm_bindgen() -> Res {
    let want = format!("wasm-bindgen {WASM_BINDGEN_VERSION}");
    if version_of("wasm-bindgen", "--version").as_deref() == Some(&want)
        && version_of("wasm-bindgen-test-runner", "--version").is_some()
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
        && version_of("node_modules/.bin/wasm-opt", "--version")
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
