//! The README's curl walkthrough, run exactly as written against a freshly started binary,
//! so the documentation cannot drift from the server.

use std::process::Command;

use crate::e2e::start;

/// The shell blocks between the walkthrough markers, in order.
fn walkthrough_script() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("read README.md");
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("start marker");
    let end = readme.find("<!-- walkthrough:end -->").expect("end marker");
    let mut script = String::new();
    let mut in_block = false;
    for line in readme[start..end].lines() {
        match (in_block, line.trim_end()) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, code) => {
                script.push_str(code);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(!in_block, "unterminated code block in the walkthrough");
    script
}

#[test]
fn readme_walkthrough_works_as_written() {
    let script = walkthrough_script();
    assert!(script.contains("curl"), "the walkthrough has no commands");
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start(dir.path(), None);
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("BASE", &server.base)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walkthrough failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for expected in [
        "alice updates the organization: 403",
        "alice issues without can_create_cert: 403",
        "\"status\": \"valid\"",
        "alice reads the organization-less CA: 403",
        "alice reads the adopted CA: 200",
        "authzen: alice read legacy: true (rule 6)",
        "authzen: alice can_delete_ca legacy: false (rule 7)",
        "alice may issue from: Acme Root,Legacy Root",
        "may delete the adopted CA: root,bob",
        "alice may, on Acme Root: read,can_create_cert",
        "delete organization: 409",
        "ca_create by bob",
        "cert_create by alice",
        "ca_assign_org by root",
        "chain.pem: OK",
        "\"renewed_from_id\":",
        "/crl/acme-issuing-",
        "/ca/acme-issuing-",
        "verify OK",
        "the revoked serial is in the CRL",
        "cert_renew by bob",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in\n{stdout}"
        );
    }
}

/// Every environment variable the binary reads is in the README's flag table.
#[test]
fn readme_lists_every_environment_variable() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("read README.md");
    let main = std::fs::read_to_string(format!("{root}/orgtenancy-server/src/main.rs"))
        .expect("read main.rs");
    let variables: Vec<&str> = main
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(variables.len() >= 18, "{variables:?}");
    for variable in variables {
        assert!(
            readme.contains(&format!("`{variable}`")),
            "{variable} is not in the README's flag table"
        );
    }
}
