//! Criterion benchmarks of the permission engine.
//!
//! Each benchmark runs over a fixed, seeded mix of 1024 inputs — every role, active and
//! inactive principals, members and strangers, creators and org-less resources, reads and
//! writes — and reports throughput in decisions per second: the time per decision is the
//! measured time divided by 1024.
//!
//! Run with `cargo bench -p orgtenancy-core --bench engine`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use orgtenancy_core::{
    Action, Capability, CapabilitySet, OrgId, Policy, Principal, Resource, Role, UserId,
};

/// How many inputs one benchmark iteration decides.
const MIX: usize = 1024;

/// A small deterministic generator, so every run measures the same mix.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn organization(rng: &mut Lcg) -> Option<OrgId> {
    match rng.below(4) {
        0 => None,
        n => Some(OrgId(n as i64)),
    }
}

fn user(rng: &mut Lcg) -> UserId {
    UserId(rng.below(6) as i64)
}

fn principal(rng: &mut Lcg) -> Principal {
    let role = match rng.below(6) {
        0 => Role::Superuser,
        1 | 2 => Role::Admin,
        _ => Role::User,
    };
    Principal::new(user(rng), role, organization(rng))
        .with_capabilities(CapabilitySet::from_bits(rng.below(32) as u32))
        .with_active(rng.below(10) != 0)
}

fn resource(rng: &mut Lcg) -> Resource {
    let creator = if rng.below(4) == 0 {
        None
    } else {
        Some(user(rng))
    };
    Resource::new(organization(rng), creator)
}

fn action(rng: &mut Lcg) -> Action {
    match Capability::new(rng.below(8) as u8) {
        // Three in eight are reads; the rest name one of five capabilities.
        Some(c) if c.bit() < 5 => Action::Write(c),
        _ => Action::Read,
    }
}

fn mix() -> Vec<(Principal, Action, Resource)> {
    let mut rng = Lcg(0x5eed);
    (0..MIX)
        .map(|_| (principal(&mut rng), action(&mut rng), resource(&mut rng)))
        .collect()
}

fn bench_authorize(c: &mut Criterion) {
    let inputs = mix();
    let allowed = inputs
        .iter()
        .filter(|(p, a, r)| Policy::DOCUMENTED.authorize(p, *a, r).is_allowed())
        .count();
    println!("authorize mix: {allowed} of {MIX} decisions allow");

    let mut group = c.benchmark_group("authorize");
    group.throughput(Throughput::Elements(MIX as u64));
    for (name, policy) in [
        ("documented", Policy::DOCUMENTED),
        ("strict", Policy::STRICT),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let policy = black_box(policy);
                for (p, a, r) in black_box(inputs.as_slice()) {
                    black_box(policy.authorize(p, *a, r));
                }
            });
        });
    }
    group.finish();
}

fn bench_scope(c: &mut Criterion) {
    let inputs = mix();
    let mut group = c.benchmark_group("scope");
    group.throughput(Throughput::Elements(MIX as u64));
    for (name, policy) in [
        ("documented", Policy::DOCUMENTED),
        ("strict", Policy::STRICT),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let policy = black_box(policy);
                for (p, _, _) in black_box(inputs.as_slice()) {
                    black_box(policy.scope(p));
                }
            });
        });
    }
    group.bench_function("contains", |b| {
        b.iter(|| {
            let policy = black_box(Policy::DOCUMENTED);
            for (p, _, r) in black_box(inputs.as_slice()) {
                black_box(policy.scope(p).contains(r));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench_authorize, bench_scope);
criterion_main!(benches);
