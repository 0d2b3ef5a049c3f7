//! `orgtenancy-load`: seeds a database and drives the reference server with a fixed number of
//! concurrent clients, reporting requests/s and p50/p99 latency per scenario and, given the
//! server's pid, its resident memory. `benches/load/run.sh` runs the whole procedure.
//!
//! ```text
//! orgtenancy-load seed <database-url> [--clients N]
//! orgtenancy-load run <api-base-url> [--clients N] [--seconds S] [--warmup S] [--server-pid PID]
//!                     [--only get-organization|list-members|add-member|mix|write-mix]
//! orgtenancy-load ceiling-serve <bind-address>
//! orgtenancy-load ceiling <api-base-url> [--clients N] [--seconds S] [--warmup S]
//! orgtenancy-load wrk-target <api-base-url>
//! ```
//!
//! `wrk-target` logs in as the first organization's plain member and prints `ORGANIZATION=<id>`
//! and `TOKEN=<access token>`, for `benches/load/run.sh` to drive the reads with wrk.
//!
//! `ceiling-serve` is the bare poem server of [`ceiling`]; `ceiling` drives it with the same
//! clients as `run`'s first scenario (GET one organization), without logging in.

mod ceiling;
mod client;
mod scenarios;
mod seed;
mod stats;
mod world;

use std::{process::ExitCode, time::Duration};

use scenarios::Scenario;

/// Options after the command and its URL.
struct Options {
    clients: usize,
    seconds: u64,
    warmup: u64,
    server_pid: Option<u32>,
    /// `--only NAME`: run just this scenario (`Scenario::key`).
    only: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [command, url, rest @ ..] => options(rest).and_then(|options| match command.as_str() {
            "seed" => seed::seed(url, options.clients),
            "run" => run(url, &options),
            "ceiling-serve" => ceiling::serve(url),
            "ceiling" => run_ceiling(url, &options),
            "wrk-target" => scenarios::wrk_target(url),
            other => Err(format!("unknown command `{other}`")),
        }),
        _ => Err(
            "usage: orgtenancy-load seed <database-url> | run <api-base-url> \
                  [--clients N] [--seconds S] [--warmup S] [--server-pid PID] \
                  | ceiling-serve <bind-address> | ceiling <api-base-url> [--clients N] ... \
                  | wrk-target <api-base-url>"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orgtenancy-load: {error}");
            ExitCode::FAILURE
        }
    }
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        clients: 32,
        seconds: 10,
        warmup: 2,
        server_pid: None,
        only: None,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |_| format!("`{flag}`: `{value}` is not a number");
        match flag.as_str() {
            "--clients" => options.clients = value.parse().map_err(bad)?,
            "--seconds" => options.seconds = value.parse().map_err(bad)?,
            "--warmup" => options.warmup = value.parse().map_err(bad)?,
            "--server-pid" => options.server_pid = Some(value.parse().map_err(bad)?),
            "--only" => options.only = Some(value.clone()),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(options)
}

fn run(base: &str, options: &Options) -> Result<(), String> {
    if let Some(key) = &options.only
        && !Scenario::ALL.iter().any(|scenario| scenario.key() == key)
    {
        return Err(format!("`--only {key}`: no such scenario"));
    }
    let plans = scenarios::plans(base, options.clients)?;
    if let Some(pid) = options.server_pid {
        println!(
            "server resident memory after start-up and {} logins: {} MiB (peak so far {} MiB)",
            2 * options.clients + 1,
            mib(memory_kib(pid, "VmRSS:")),
            mib(memory_kib(pid, "VmHWM:")),
        );
    }
    println!(
        "{} connections, {} s warm-up + {} s measured per scenario",
        options.clients, options.warmup, options.seconds
    );
    println!();
    print_header();
    let mut failed = false;
    let chosen = Scenario::ALL.into_iter().filter(|scenario| {
        options
            .only
            .as_deref()
            .is_none_or(|key| key == scenario.key())
    });
    for scenario in chosen {
        let summary = scenarios::run(
            base,
            &plans,
            scenario,
            Duration::from_secs(options.warmup),
            Duration::from_secs(options.seconds),
        );
        failed |= summary.failures > 0 || summary.requests == 0;
        let rss = mib(options.server_pid.and_then(|pid| memory_kib(pid, "VmRSS:")));
        print_row(scenario.name(), &summary, &rss);
    }
    if let Some(peak) = options.server_pid.and_then(|pid| memory_kib(pid, "VmHWM:")) {
        println!();
        println!(
            "server peak resident memory (VmHWM): {:.1} MiB",
            peak as f64 / 1024.0
        );
    }
    if failed {
        return Err("some requests failed (non-2xx) or a scenario completed none".to_owned());
    }
    Ok(())
}

/// The ceiling: [`Scenario::GetOrganization`] against the bare server of [`ceiling`].
fn run_ceiling(base: &str, options: &Options) -> Result<(), String> {
    let plans = scenarios::anonymous(options.clients);
    print_header();
    let summary = scenarios::run(
        base,
        &plans,
        Scenario::GetOrganization,
        Duration::from_secs(options.warmup),
        Duration::from_secs(options.seconds),
    );
    print_row(
        "CEILING: bare poem, GET one organization (constant body)",
        &summary,
        "-",
    );
    if summary.failures > 0 || summary.requests == 0 {
        return Err("the ceiling server failed requests or completed none".to_owned());
    }
    Ok(())
}

/// The header of the report's table.
fn print_header() {
    println!(
        "| scenario | requests | req/s | p50 ms | p99 ms | max ms | non-2xx | server RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
}

/// One row of the report's table.
fn print_row(name: &str, summary: &stats::Summary, rss: &str) {
    println!(
        "| {name} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {rss} |",
        summary.requests,
        summary.per_second,
        millis(summary.p50),
        millis(summary.p99),
        millis(summary.max),
        summary.failures,
    );
}

/// KiB as MiB for the report, or `-` when unknown.
fn mib(kib: Option<u64>) -> String {
    kib.map_or("-".to_owned(), |kib| format!("{:.1}", kib as f64 / 1024.0))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in KiB.
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
