//! The three engines give the same decision on every input of the §3 space, and the check
//! notices an engine that does not.

use orgtenancy_benches::{CasbinEngine, CedarEngine, Input, agreement, casbin, cedar};

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: an engine that cannot be built fails the test"
)]
fn engines() -> (CedarEngine, CasbinEngine) {
    (CedarEngine::new().unwrap(), CasbinEngine::new().unwrap())
}

#[test]
fn the_cedar_policies_validate_against_their_schema() {
    CedarEngine::new().unwrap().validate().unwrap();
}

#[test]
fn the_three_engines_agree_on_every_input() {
    let (cedar, casbin) = engines();
    let report = agreement(&cedar, &casbin, Input::all());
    for d in report.disagreements.iter().take(10) {
        eprintln!("disagreement: {d:?}");
    }
    assert_eq!(report.checked, Input::SPACE);
    assert_eq!(report.checked, 31_104);
    assert!(
        report.disagreements.is_empty(),
        "{} of {} inputs disagree",
        report.disagreements.len(),
        report.checked
    );
    // Both answers occur often, so agreement is not the trivial "all deny".
    assert!(report.allowed > 1_000 && report.checked - report.allowed > 1_000);
    println!(
        "agreement: orgtenancy-core, cedar (built and prepared), casbin (built and prepared) \
         agree on {} of {} inputs ({} allowed)",
        report.checked,
        Input::SPACE,
        report.allowed
    );
}

/// The inputs with no flag, every flag, or only the first or the last: an eighth of the space
/// (unoptimised test builds of the other engines are slow), still reaching every rule.
fn sample() -> impl Iterator<Item = Input> {
    Input::all().filter(|input| matches!(input.flags.bits(), 0b00000 | 0b00001 | 0b10000 | 0b11111))
}

/// Each mutation breaks one rule in one engine; the check must find disagreements.
#[test]
fn the_check_notices_a_broken_policy() {
    let (good_cedar, good_casbin) = engines();
    let cedar_mutations = [
        // Rule 0 lost.
        cedar::POLICIES.replace("unless { principal.active }", "unless { true }"),
        // The creator rule confined to no one.
        cedar::POLICIES.replace(
            "resource.creator == principal",
            "resource.creator == resource",
        ),
        // A flag granting the wrong write.
        cedar::POLICIES.replace(
            "principal.flags.contains(\"can_delete_ca\")",
            "principal.flags.contains(\"can_create_ca\")",
        ),
    ];
    for mutated in cedar_mutations {
        assert_ne!(mutated, cedar::POLICIES, "the mutation did not apply");
        let broken = CedarEngine::with_policies(&mutated).unwrap();
        let report = agreement(&broken, &good_casbin, sample());
        assert!(!report.disagreements.is_empty(), "not noticed: {mutated}");
    }

    let casbin_mutations = [
        // Rule 3 lost: org-less resources match the `org` reach of an org-less principal.
        casbin::MODEL.replace("r.obj.org != \"\" && ", ""),
        // Rule 0 lost.
        casbin::MODEL.replace("m = r.sub.active \\", "m = true \\"),
    ];
    for mutated in casbin_mutations {
        assert_ne!(mutated, casbin::MODEL, "the mutation did not apply");
        let broken = CasbinEngine::with_model(&mutated, &casbin::POLICY).unwrap();
        let report = agreement(&good_cedar, &broken, sample());
        assert!(!report.disagreements.is_empty(), "not noticed: {mutated}");
    }
    // A missing row: admins lose rule 5.
    let rows: Vec<[&str; 4]> = casbin::POLICY
        .into_iter()
        .filter(|row| row[0] != "admin")
        .collect();
    let broken = CasbinEngine::with_model(casbin::MODEL, &rows).unwrap();
    let report = agreement(&good_cedar, &broken, sample());
    assert!(!report.disagreements.is_empty());
}

#[test]
fn the_space_holds_every_input_once() {
    let all: std::collections::HashSet<Input> = Input::all().collect();
    assert_eq!(all.len(), Input::SPACE);
    assert_eq!(Input::all().count(), Input::SPACE);
    // The bench's mix is fixed: the same seed gives the same inputs.
    assert_eq!(Input::mix(64, 1), Input::mix(64, 1));
}
