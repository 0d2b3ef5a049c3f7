//! orgtenancy-core, Cedar and casbin side by side on the §3 resource decision, in one run.
//!
//! First the agreement check: the engines must give the same decision on all 31,104 inputs of
//! the §3 space, or the run stops before timing anything. Then criterion times each engine over
//! the same fixed mix of [`MIX`] inputs ([`Input::mix`]), and the run ends with a table of the
//! median nanoseconds per decision and each engine's ratio to orgtenancy-core.
//!
//! ```text
//! cargo bench -p orgtenancy-benches -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use criterion::{Criterion, Throughput};
use orgtenancy_benches::{
    CasbinEngine, CedarEngine, Input, agreement, casbin_decide, casbin_decide_prepared,
    cedar_decide, cedar_decide_prepared, orgtenancy_decide,
};

/// How many inputs one benchmark iteration decides.
const MIX: usize = 256;
/// The seed of the mix, so every run times the same inputs.
const SEED: u64 = 0x5eed_0f0a_97e4;
/// The criterion group; its directory under the output directory holds the estimates.
const GROUP: &str = "engines";

/// The benchmarks, in the order of the final table: id and description.
const BENCHES: [(&str, &str); 5] = [
    (
        "orgtenancy-core",
        "orgtenancy-core (Policy::DOCUMENTED.authorize)",
    ),
    (
        "cedar-built",
        "cedar, entities + request built per decision",
    ),
    (
        "cedar-prebuilt",
        "cedar, entities + request built beforehand",
    ),
    (
        "casbin-built",
        "casbin, request structs converted per decision",
    ),
    (
        "casbin-prebuilt",
        "casbin, request values converted beforehand",
    ),
];

fn main() -> ExitCode {
    let started = SystemTime::now();
    let (cedar, casbin) = match (CedarEngine::new(), CasbinEngine::new()) {
        (Ok(cedar), Ok(casbin)) => (cedar, casbin),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("cannot build the engines: {e}");
            return ExitCode::FAILURE;
        }
    };

    let report = agreement(&cedar, &casbin, Input::all());
    if !report.disagreements.is_empty() || report.checked != Input::SPACE {
        for d in report.disagreements.iter().take(10) {
            eprintln!("disagreement: {d:?}");
        }
        eprintln!(
            "agreement check FAILED: {} of {} inputs disagree; not timing",
            report.disagreements.len(),
            report.checked
        );
        return ExitCode::FAILURE;
    }
    println!(
        "agreement check passed: the three engines (five variants) agree on all {} inputs \
         ({} allowed)",
        report.checked, report.allowed
    );

    let inputs = Input::mix(MIX, SEED);
    let cedar_prepared: Vec<_> = inputs
        .iter()
        .filter_map(|i| cedar.prepare(i).ok())
        .collect();
    let casbin_prepared: Vec<_> = inputs
        .iter()
        .filter_map(|i| casbin.prepare(i).ok())
        .collect();
    if cedar_prepared.len() != MIX || casbin_prepared.len() != MIX {
        eprintln!("cannot prepare the requests of the mix");
        return ExitCode::FAILURE;
    }
    let allowed = inputs.iter().filter(|i| orgtenancy_decide(i)).count();
    println!("timing a mix of {MIX} inputs ({allowed} allowed), seed {SEED:#x}");

    let output = output_directory();
    let mut criterion = Criterion::default()
        .output_directory(&output)
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group(GROUP);
        group.throughput(Throughput::Elements(MIX as u64));
        group.sample_size(30);
        group.bench_function(BENCHES[0].0, |b| {
            b.iter(|| {
                for input in &inputs {
                    black_box(orgtenancy_decide(black_box(input)));
                }
            });
        });
        group.bench_function(BENCHES[1].0, |b| {
            b.iter(|| {
                for input in &inputs {
                    black_box(cedar_decide(&cedar, black_box(input)).is_ok_and(|a| a));
                }
            });
        });
        group.bench_function(BENCHES[2].0, |b| {
            b.iter(|| {
                for prepared in &cedar_prepared {
                    black_box(cedar_decide_prepared(&cedar, black_box(prepared)).is_ok_and(|a| a));
                }
            });
        });
        group.bench_function(BENCHES[3].0, |b| {
            b.iter(|| {
                for input in &inputs {
                    black_box(casbin_decide(&casbin, black_box(input)).is_ok_and(|a| a));
                }
            });
        });
        group.bench_function(BENCHES[4].0, |b| {
            b.iter(|| {
                for prepared in &casbin_prepared {
                    black_box(
                        casbin_decide_prepared(&casbin, black_box(prepared)).is_ok_and(|a| a),
                    );
                }
            });
        });
        group.finish();
    }
    criterion.final_summary();
    print_table(&output.join(GROUP), started);
    ExitCode::SUCCESS
}

/// Where criterion writes its estimates: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else the workspace's `target/criterion` (criterion's own order, made explicit so the final
/// table can read them back).
fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("criterion")
}

/// The median time of one iteration (the whole mix), in nanoseconds, if this run measured it.
fn median_ns(group_dir: &Path, id: &str, started: SystemTime) -> Option<f64> {
    let path = group_dir.join(id).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified >= started);
    if !fresh {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates.get("median")?.get("point_estimate")?.as_f64()
}

fn print_table(group_dir: &Path, started: SystemTime) {
    let per_decision: Vec<Option<f64>> = BENCHES
        .iter()
        .map(|(id, _)| median_ns(group_dir, id, started).map(|ns| ns / MIX as f64))
        .collect();
    let baseline = per_decision.first().copied().flatten();
    println!();
    println!("median per decision over the same {MIX}-input mix:");
    println!(
        "{:<50} {:>14} {:>18}",
        "engine", "ns/decision", "× orgtenancy-core"
    );
    for ((_, description), ns) in BENCHES.iter().zip(&per_decision) {
        match (ns, baseline) {
            (Some(ns), Some(base)) if base > 0.0 => {
                println!("{description:<50} {ns:>14.1} {:>17.0}×", ns / base);
            }
            (Some(ns), _) => println!("{description:<50} {ns:>14.1} {:>18}", "-"),
            (None, _) => println!("{description:<50} {:>14} {:>18}", "not measured", "-"),
        }
    }
    println!("published: Cedar 4–11 µs median per request; casbin-rs 7.8 µs (RBAC with domains)");
}
