//! Subject alternative names through the API (issue 11 item 7, SPEC §10): one row per value,
//! the field it goes in and whether it is accepted. A refused value is 422 with a `detail`
//! naming the field and the value, and writes no certificate and no audit entry; an accepted
//! one is 201 and lands in the certificate as given.

use serde_json::{Value, json};

use crate::{
    pki_matrix::create_ca,
    support::{Backend, Harness},
};

on_both_backends!(san_table);

const DNS: &str = "san_dns_names";
const IP: &str = "san_ip_addresses";

/// (value, field, accepted).
const ROWS: &[(&str, &str, bool)] = &[
    ("example.com", DNS, true),
    ("www.example.com", DNS, true),
    ("*.example.com", DNS, true),
    ("*.example.co.uk", DNS, true),
    ("xn--bcher-kva.example", DNS, true),
    ("a-b.example.org", DNS, true),
    ("localhost", DNS, true),
    ("*", DNS, false),
    ("*.com", DNS, false),
    ("*.co.uk", DNS, false),
    ("*a.b.com", DNS, false),
    ("a.*.com", DNS, false),
    ("**.x.com", DNS, false),
    ("*.*.x.com", DNS, false),
    ("10.0.0.1", DNS, false),
    ("2001:db8::1", DNS, false),
    ("-a.example.com", DNS, false),
    ("a-.example.com", DNS, false),
    ("a..example.com", DNS, false),
    ("a_b.example.com", DNS, false),
    ("exämple.com", DNS, false),
    ("", DNS, false),
    ("10.0.0.1", IP, true),
    ("2001:db8::1", IP, true),
    ("::1", IP, true),
    ("300.1.1.1", IP, false),
    ("example.com", IP, false),
    ("fe80::1%eth0", IP, false),
    ("", IP, false),
];

fn body(n: usize, value: &str, field: &str) -> Value {
    let mut body = json!({
        "common_name": format!("san{n}.example.com"), "certificate_type": "server",
        "key_type": "ec", "valid_days": 30,
    });
    body[field] = json!([value]);
    body
}

async fn san_table(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let ca = create_ca(&h, &root, "sans").await;
    let too_long = format!("{}.com", "a".repeat(64));
    let mut rows: Vec<(String, &str, bool)> = ROWS
        .iter()
        .map(|(value, field, ok)| ((*value).to_owned(), *field, *ok))
        .collect();
    rows.push((too_long, DNS, false));
    rows.push((format!("{}com", "abcdefghi.".repeat(25)), DNS, true)); // 253 characters
    rows.push((format!("{}com", "abcdefghi.".repeat(26)), DNS, false));
    let mut accepted = 0;
    for (n, (value, field, ok)) in rows.iter().enumerate() {
        let path = format!("/certificates/?ca_id={ca}");
        let reply = h.post(&path, Some(&root), body(n, value, field)).await;
        let what = format!("{field} {value:?}: {} {}", reply.code(), reply.text);
        if *ok {
            assert_eq!(reply.code(), 201, "{what}");
            assert_eq!(reply.json[*field], json!([value]), "{what}");
            accepted += 1;
        } else {
            assert_eq!(reply.code(), 422, "{what}");
            reply.assert_error_shape();
            let detail = reply.json["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(field), "detail names no field: {what}");
            let shown: String = value.chars().take(80).collect();
            assert!(
                detail.contains(&format!("`{shown}")),
                "detail names no value: {what}"
            );
        }
    }
    let certs = h.get("/certificates/?limit=1000", Some(&root)).await;
    let certs = certs.expect(200).json.as_array().map_or(0, Vec::len);
    assert_eq!(certs, accepted, "a refused SAN left a certificate");
    let audit = h
        .get("/audit-logs/?action=cert_create&limit=1000", Some(&root))
        .await;
    let audit = audit.expect(200).json.as_array().map_or(0, Vec::len);
    assert_eq!(audit, accepted, "a refused SAN left an audit entry");
}

on_both_backends!(a_server_certificate_without_sans_is_named_by_its_common_name);

/// SPEC §10 (as FastPKI): a server certificate without SANs gets its common name as its DNS
/// SAN; a common name that is no DNS name is then 422 naming `san_dns_names`. A client
/// certificate needs no SAN.
async fn a_server_certificate_without_sans_is_named_by_its_common_name(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let ca = create_ca(&h, &root, "Names").await;
    let issue = |cn: &str, kind: &str| json!({"common_name": cn, "certificate_type": kind, "key_type": "ec", "valid_days": 10});
    let path = format!("/certificates/?ca_id={ca}");
    for kind in ["server", "dual_purpose"] {
        let cert = h
            .post(&path, Some(&root), issue("svc.example.com", kind))
            .await;
        let pem = cert.expect(201).json["certificate"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let text = openssl_text(&pem);
        assert!(text.contains("DNS:svc.example.com"), "{kind}: {text}");
        let refused = h
            .post(&path, Some(&root), issue("Not A Host Name", kind))
            .await;
        refused.expect(422);
        assert!(
            refused.json["detail"]
                .as_str()
                .is_some_and(|d| d.contains("san_dns_names")),
            "{}",
            refused.json
        );
    }
    let client = h
        .post(&path, Some(&root), issue("Alice Client", "client"))
        .await;
    let pem = client.expect(201).json["certificate"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!openssl_text(&pem).contains("Subject Alternative Name"));
}

fn openssl_text(pem: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), pem).unwrap();
    let out = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args(["x509", "-in", "c.pem", "-noout", "-text"])
        .output()
        .expect("run openssl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

on_both_backends!(email_names_go_on_client_certificates);

/// SPEC §10: client and dual-purpose certificates take email SANs (rfc822Name, validated);
/// a server certificate does not; a bad address is 422 naming the field and the value.
async fn email_names_go_on_client_certificates(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let ca = create_ca(&h, &root, "Mail").await;
    let path = format!("/certificates/?ca_id={ca}");
    let issue = |kind: &str, email: &str| {
        json!({"common_name": "alice.example.com", "certificate_type": kind, "key_type": "ec",
               "valid_days": 10, "san_email_addresses": [email]})
    };
    for kind in ["client", "dual_purpose"] {
        let cert = h
            .post(&path, Some(&root), issue(kind, "alice@example.com"))
            .await;
        let pem = cert.expect(201).json["certificate"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let text = openssl_text(&pem);
        assert!(text.contains("email:alice@example.com"), "{kind}: {text}");
        for bad in ["alice", "alice@*.example.com", "al ice@example.com"] {
            let refused = h.post(&path, Some(&root), issue(kind, bad)).await;
            refused.expect(422);
            let detail = refused.json["detail"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                detail.starts_with(&format!("invalid san_email_addresses: `{bad}`")),
                "{detail}"
            );
        }
    }
    let refused = h
        .post(&path, Some(&root), issue("server", "alice@example.com"))
        .await;
    refused.expect(422);
    assert!(
        refused.json["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("invalid san_email_addresses")),
        "{}",
        refused.json
    );
}
