#!/usr/bin/env bash
# The published FastPKI command-line client against the reference server (SPEC §10, issue 14):
# installs `fastpki==0.4.0` in a cached virtual environment, starts the release server on a
# fresh database, points the CLI at it through an isolated XDG_CONFIG_HOME, logs in as a
# superuser and runs every `ca`, `cert`, `export` and `audit list` command the issue names,
# each with its own check: the CLI's own JSON output (`-o json`) is parsed for ids and fields,
# openssl verifies what came back (chains, key pairs, SANs, CRLs, CDP and AIA extensions), and
# curl fetches the public PKI files (`/crl/{slug}`, `/ca/{slug}.crt`, no authentication).
#
#   scripts/fastpki-cli.sh            # SQLite (CI)
#   scripts/fastpki-cli.sh postgres   # a throwaway PostgreSQL database (CI too)
#
# `postgres` creates a database next to $ORGTENANCY_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test) and drops it afterwards. FASTPKI_CLI_SERVER_BIN
# names another build of the server (skips the release build). Needs python3 (with venv),
# curl and openssl; the virtual environment is cached in $CARGO_TARGET_DIR (or target/).
#
# A failed check does not stop the run: each check runs in its own subshell, its output is
# kept, and a failure prints that output with the server log's lines of that check. The end
# is a table `check | HTTP statuses the server logged for it | ok/FAIL`; the exit status is
# non-zero if any check failed. On success only the table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

FASTPKI_VERSION=0.4.0
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target_dir/fastpki-venv-$FASTPKI_VERSION"
backend="${1:-sqlite}"
case "$backend" in sqlite | postgres) ;; *) echo "usage: $0 [sqlite|postgres]"; exit 2 ;; esac

server_bin="${FASTPKI_CLI_SERVER_BIN:-}"
if [ -z "$server_bin" ]; then
  # A no-op when scripts/schemathesis.sh (or anything else) already built it.
  cargo build --release -q -p orgtenancy-server
  server_bin="$target_dir/release/orgtenancy-server"
fi

if [ ! -x "$venv/bin/fastpki" ]; then
  echo "== install fastpki $FASTPKI_VERSION in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "fastpki==$FASTPKI_VERSION"
fi

work="$(mktemp -d)"
server_pid=""
pg_database=""
pg_base="${ORGTENANCY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_database" ]; then
    dropdb --if-exists -d "$pg_base" "$pg_database" 2>/dev/null \
      || psql -q -d "$pg_base" -c "DROP DATABASE IF EXISTS $pg_database" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/state" "$work/checks" "$work/files" "$work/config"

case "$backend" in
  sqlite) database_url="sqlite://$work/fastpki.db?mode=rwc" ;;
  postgres)
    pg_database="fastpki_cli_$$_$RANDOM"
    psql -q -v ON_ERROR_STOP=1 -d "$pg_base" -c "CREATE DATABASE $pg_database"
    database_url="${pg_base%/*}/$pg_database"
    ;;
esac

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
server_args=(--bind "127.0.0.1:$port" --database-url "$database_url"
  --access-token-minutes 120 --log-format json --log-level info)
# The certificates' CDP and AIA URLs are built from it (SPEC §10); older servers lack it.
if "$server_bin" --help | grep -q -- '--public-base-url'; then
  server_args+=(--public-base-url "$base")
fi
"$server_bin" "${server_args[@]}" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/healthz" > /dev/null && break
  sleep 0.2
done
curl -sf "$base/healthz" > /dev/null || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

password='cli-password-1'
curl -sf -X POST "$base/api/v1/users/" -H 'Content-Type: application/json' \
  -d "{\"username\":\"root\",\"email\":\"root@example.com\",\"password\":\"$password\",\"role\":\"superuser\"}" \
  > /dev/null || { echo "cannot create the superuser"; tail -n 20 "$work/server.log"; exit 1; }

# The CLI's configuration (server URL, token) lives here only; COLUMNS keeps rich's tables whole.
export XDG_CONFIG_HOME="$work/config" COLUMNS=250 NO_COLOR=1
files="$work/files"

# --- helpers used inside the checks -------------------------------------------------------

# cli ARGS...: runs the CLI; its output goes to $work/last.out and .err and into the check's log.
cli() {
  echo "\$ fastpki $*"
  local rc=0
  "$venv/bin/fastpki" "$@" > "$work/last.out" 2> "$work/last.err" < /dev/null || rc=$?
  cat "$work/last.out" "$work/last.err"
  echo "(exit $rc)"
  return "$rc"
}
# cli_refused STATUS ARGS...: the CLI must fail and print `Error STATUS` (never a 5xx).
cli_refused() {
  local status="$1"
  shift
  if cli "$@"; then echo "expected the CLI to fail with $status; it succeeded"; return 1; fi
  grep -q "Error $status" "$work/last.err" || { echo "expected 'Error $status' from the CLI"; return 1; }
}
# no_missing FIELDS-EXPRESSION: that list of missing fields (ca_missing, cert_missing) is
# empty for the last answer, or for each object of a list answer.
no_missing() {
  python3 - "$work/last.out" "$1" <<'EOF'
import json, sys
answer = json.load(open(sys.argv[1]))
for d in answer if isinstance(answer, list) else [answer]:
    missing = eval(sys.argv[2])
    if missing:
        sys.exit(f"object {d.get('id')} lacks {', '.join(missing)}")
EOF
}
# want PYTHON-EXPRESSION: true of `d`, the JSON the last CLI call printed.
want() {
  python3 - "$work/last.out" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit(f"expected {sys.argv[2]}\n  in {json.dumps(d)[:2000]}")
EOF
}
# val PYTHON-EXPRESSION: prints that value of `d` (fails on None).
val() {
  python3 - "$work/last.out" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
if v is None:
    sys.exit(f"{sys.argv[2]} is null")
print(v)
EOF
}
put() { # put NAME VALUE: for later checks (an empty value is a failure)
  [ -n "$2" ] || { echo "no value for $1" >&2; return 1; }
  printf '%s' "$2" > "$work/state/$1"
}
get() { # an id or value an earlier check saved
  [ -s "$work/state/$1" ] || { echo "no $1: the check that makes it failed" >&2; return 1; }
  cat "$work/state/$1"
}
# same_key KEY CERT: the key's public half is the certificate's public key.
same_key() {
  diff <(openssl pkey -in "$1" -pubout) <(openssl x509 -in "$2" -noout -pubkey) \
    || { echo "$1 is not the key of $2"; return 1; }
}
# same_pubkey_csr CSR CERT
same_pubkey_csr() {
  diff <(openssl req -in "$1" -noout -pubkey) <(openssl x509 -in "$2" -noout -pubkey) \
    || { echo "$2 does not carry the public key of $1"; return 1; }
}
# serial_of CERT: its serial as lowercase hex without leading zeros.
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//'; }
# fetch PATH FILE: GET without credentials; prints "STATUS CONTENT-TYPE".
fetch() { curl -s -o "$2" -w '%{http_code} %{content_type}' "$base$1"; }
# slug NAME ID: SPEC §10 — lower-cased, other than letters, digits, spaces and `-` removed,
# runs of spaces and `_` turned into `-`, then `-{id}`.
slug() {
  python3 - "$1" "$2" <<'EOF'
import re, sys
name = re.sub(r"[^a-z0-9 _-]", "", sys.argv[1].lower())
print(re.sub(r"[ _]+", "-", name) + "-" + sys.argv[2])
EOF
}
# revoked_with CRL-TEXT SERIAL REASON: the CRL lists that serial with that reason.
revoked_with() {
  python3 - "$1" "$2" "$3" <<'EOF'
import re, sys
text, serial, reason = open(sys.argv[1]).read(), sys.argv[2].lstrip("0"), sys.argv[3]
for entry in text.split("Serial Number:")[1:]:
    if entry.split()[0].lower().lstrip("0") == serial:
        if reason not in entry.split("Serial Number:")[0]:
            sys.exit(f"serial {serial} is listed without the reason {reason}")
        break
else:
    sys.exit(f"serial {serial} is not in the CRL")
if "Next Update:" not in text or "Next Update: NONE" in text:
    sys.exit("the CRL has no nextUpdate")
EOF
}

# --- the check runner -----------------------------------------------------------------------

# logged_statuses LOG: the HTTP statuses of the requests in that part of the server's JSON log.
logged_statuses() {
  python3 - "$1" <<'EOF'
import json, sys
codes = []
for line in open(sys.argv[1], errors="replace"):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    fields = event.get("fields", {})
    status = fields.get("status", event.get("status"))
    if status is not None and "/healthz" not in line:
        codes.append(str(status))
print(" ".join(codes) or "-")
EOF
}
labels=()
statuses=()
results=()
failed=0
# check LABEL FUNCTION [ARGS...]: runs the function in a subshell with `set -e` (outside any
# condition, so `set -e` holds) and records its result and the HTTP statuses the server logged.
check() {
  local label="$1"
  shift
  local n=${#labels[@]}
  local log="$work/checks/$n.log"
  local offset rc
  offset=$(stat -c %s "$work/server.log")
  set +e
  (set -e; "$@") > "$log" 2>&1
  rc=$?
  set -e
  tail -c +"$((offset + 1))" "$work/server.log" > "$work/checks/$n.server.log"
  labels+=("$label")
  statuses+=("$(logged_statuses "$work/checks/$n.server.log")")
  if [ "$rc" -eq 0 ]; then
    results+=(ok)
  else
    results+=(FAIL)
    failed=1
    echo "---- FAIL: $label"
    sed 's/^/  | /' "$log"
    echo "  server log of this check (last 15 lines):"
    tail -n 15 "$work/checks/$n.server.log" | sed 's/^/  > /'
  fi
}

# --- the checks -----------------------------------------------------------------------------

t_config() {
  cli config set server.url "$base"
  cli config get server.url
  grep -qx "$base" "$work/last.out"
}
t_login() {
  cli auth login -u root -p "$password"
  grep -q "Logged in as root" "$work/last.out"
  cli auth status
  grep -q "Token is valid" "$work/last.out"
}

# The fields SPEC §10 lists for a CA object that an answer `d` lacks (for no_missing).
ca_missing='[k for k in ["id", "name", "description", "subject_dn", "key_size", "valid_days", "created_at", "updated_at", "certificate", "organization_id", "created_by_user_id", "parent_ca_id", "path_length", "allow_leaf_certs", "crl_base_url", "is_root"] if k not in d]'
root_name="Test Root (CLI)"
issuing_name="Issuing A"

t_ca_create_root() {
  cli ca -o json create -n "$root_name" -s "CN=FastPKI CLI Root,O=orgtenancy" \
    -d "the CLI test's root" -k 2048 -v 3650 --path-length 1
  put root "$(val 'd["id"]')"
  want 'd["key_size"] == 2048 and d["path_length"] == 1 and d["is_root"] is True and d["parent_ca_id"] is None'
  want 'd["private_key"].startswith("-----BEGIN") and d["certificate"].startswith("-----BEGIN CERTIFICATE")'
  val 'd["certificate"]' > "$files/root-created.pem"
  val 'd["private_key"]' > "$files/root-created.key"
  openssl x509 -in "$files/root-created.pem" -noout -text > "$files/root-created.txt"
  grep -q 'CA:TRUE, pathlen:1' "$files/root-created.txt"
  grep -q 'Public-Key: (2048 bit)' "$files/root-created.txt"
  openssl x509 -in "$files/root-created.pem" -noout -subject | grep -q 'CN *= *FastPKI CLI Root'
  same_key "$files/root-created.key" "$files/root-created.pem"
}
t_ca_create_intermediate() {
  local root
  root=$(get root)
  cli ca -o json create -n "$issuing_name" -s "CN=FastPKI CLI Issuing A,O=orgtenancy" -p "$root"
  put issuing "$(val 'd["id"]')"
  want "d['parent_ca_id'] == $root and d['is_root'] is False"
  val 'd["certificate"]' > "$files/issuing-created.pem"
  openssl verify -CAfile "$files/root-created.pem" "$files/issuing-created.pem"
}
t_ca_create_options() {
  # The CLI offers no key type (RSA only) and no way to send allow_leaf_certs false (its flag
  # has no --no- form): the other options are key size, validity, description, the flag and
  # the CRL base URL (next check).
  cli ca -o json create -n "Disposable CA" -s "CN=Disposable CA" -d "deleted later" \
    -k 3072 -v 30 --allow-leaf-certs
  put disposable "$(val 'd["id"]')"
  want 'd["key_size"] == 3072 and d["valid_days"] == 30 and d["allow_leaf_certs"] is True and d["description"] == "deleted later"'
  val 'd["certificate"]' > "$files/disposable.pem"
  openssl x509 -in "$files/disposable.pem" -noout -text | grep -q 'Public-Key: (3072 bit)'
}
t_ca_create_crl_base() {
  cli ca -o json create -n "Published CA" -s "CN=Published CA" --allow-leaf-certs \
    --crl-base-url "http://pki.example.test/base"
  put published "$(val 'd["id"]')"
  want 'd["allow_leaf_certs"] is True and d["is_root"] is True'
  want 'd.get("crl_base_url") == "http://pki.example.test/base"'
  cli ca -o json show "$(get published)"
  want 'd.get("crl_base_url") == "http://pki.example.test/base"'
}
t_ca_fields() {
  local root
  root=$(get root)
  cli ca -o json create -n "Fields CA" -s "CN=Fields CA"
  no_missing "$ca_missing"
  cli ca -o json show "$root"
  no_missing "$ca_missing"
  cli ca -o json list
  no_missing "$ca_missing"
}
t_ca_list() {
  local root issuing
  root=$(get root)
  issuing=$(get issuing)
  cli ca -o json list
  want "{$root, $issuing} <= {c['id'] for c in d}"
  want 'all("private_key" not in c or c["private_key"] is None for c in d)'
  cli ca list # the table format
  grep -q "$issuing_name" "$work/last.out"
}
t_ca_show() {
  local issuing
  issuing=$(get issuing)
  cli ca -o json show "$issuing"
  want "d['id'] == $issuing and d['name'] == '$issuing_name' and d['parent_ca_id'] == $(get root)"
  want '"private_key" not in d or d["private_key"] is None'
  cli ca show "$issuing"
  grep -q "$issuing_name" "$work/last.out"
}
t_ca_chain() {
  local root issuing
  root=$(get root)
  issuing=$(get issuing)
  cli ca -o json chain "$issuing"
  want "[c['id'] for c in d] == [$issuing, $root]"
}
t_ca_children() {
  local root issuing
  root=$(get root)
  issuing=$(get issuing)
  cli ca -o json children "$root"
  want "[c['id'] for c in d] == [$issuing]"
  cli ca -o json children "$issuing"
  want 'd == []'
}
t_ca_private_key() {
  local root
  root=$(get root)
  cli ca -o json private-key "$root"
  want "d['id'] == $root and d['private_key'].startswith('-----BEGIN')"
  val 'd["private_key"]' > "$files/root-shown.key"
  same_key "$files/root-shown.key" "$files/root-created.pem"
}

# The same for a certificate object.
cert_missing='[k for k in ["id", "common_name", "subject_dn", "certificate_type", "key_size", "valid_days", "status", "certificate", "serial_number", "not_before", "not_after", "revoked_at", "created_at", "updated_at", "issuer_id", "organization_id", "created_by_user_id"] if k not in d]'
# issued_ok NAME: the last answer is a certificate of the issuing CA whose serial_number is the
# certificate's (lowercase hex); writes NAME.pem and NAME.txt (openssl's text).
issued_ok() {
  local issuing
  issuing=$(get issuing)
  want "d['issuer_id'] == $issuing and d['status'] == 'valid'"
  want 'all(c in "0123456789abcdef" for c in d["serial_number"])'
  val 'd["certificate"]' > "$files/$1.pem"
  openssl x509 -in "$files/$1.pem" -noout -text > "$files/$1.txt"
  [ "$(serial_of "$files/$1.pem")" = "$(val 'd["serial_number"].lstrip("0")')" ] \
    || { echo "serial_number is not the certificate's serial"; return 1; }
  openssl verify -CAfile "$files/root-created.pem" -untrusted "$files/issuing-created.pem" "$files/$1.pem"
}
t_cert_server() {
  cli cert -o json create --ca "$(get issuing)" -n www.example.test \
    -s "CN=www.example.test,O=orgtenancy" -t server -k 2048 \
    --san-dns www.example.test --san-dns api.example.test
  issued_ok server
  want 'd["certificate_type"] == "server" and d["private_key"].startswith("-----BEGIN")'
  grep -q 'DNS:www.example.test, DNS:api.example.test' "$files/server.txt"
  grep -q 'TLS Web Server Authentication' "$files/server.txt"
  val 'd["private_key"]' > "$files/server-created.key"
  same_key "$files/server-created.key" "$files/server.pem"
  put server "$(val 'd["id"]')"
}
t_cert_client() {
  cli cert -o json create --ca "$(get issuing)" -n alice -s "CN=alice,O=orgtenancy" -t client \
    --san-email alice@example.test
  issued_ok client
  want 'd["certificate_type"] == "client" and d["private_key"].startswith("-----BEGIN")'
  grep -q 'email:alice@example.test' "$files/client.txt"
  grep -q 'TLS Web Client Authentication' "$files/client.txt"
  put client "$(val 'd["id"]')"
  put client_serial "$(val 'd["serial_number"]')"
}
t_cert_dual() {
  cli cert -o json create --ca "$(get issuing)" -n both.example.test \
    -s "CN=both.example.test" -t dual_purpose --san-dns both.example.test --san-email ops@example.test
  issued_ok dual
  want 'd["certificate_type"] == "dual_purpose"'
  grep -q 'TLS Web Server Authentication, TLS Web Client Authentication' "$files/dual.txt"
  grep -q 'email:ops@example.test' "$files/dual.txt"
}
t_cert_type_ca() {
  # From the root (path length 1): the issuing CA's path length is 0, which leaves no room
  # for another CA certificate under it (the server refuses that with 409, as openssl would
  # refuse the chain).
  cli cert -o json create --ca "$(get root)" -n "Sub CA" -s "CN=Sub CA" -t ca
  want "d['certificate_type'] == 'ca'"
  val "d['certificate']" > "$files/subca.pem"
  openssl x509 -in "$files/subca.pem" -noout -text | grep -q 'CA:TRUE, pathlen:0'
  cli_refused 409 cert -o json create --ca "$(get issuing)" -n "Sub CA 2" -s "CN=Sub CA 2" -t ca
}
t_cert_no_key() {
  cli cert -o json create --ca "$(get issuing)" -n nokey.example.test -s "CN=nokey.example.test" \
    --no-private-key
  issued_ok nokey
  want 'd.get("private_key") is None'
  if grep -q 'PRIVATE KEY' "$work/last.out"; then echo "the answer holds a key"; return 1; fi
  cli cert show "$(val 'd["id"]')" # the table format of the detail view
  grep -q 'nokey.example.test' "$work/last.out"
}
t_cert_list() {
  local server client
  server=$(get server)
  client=$(get client)
  cli cert -o json list
  want "{$server, $client} <= {c['id'] for c in d}"
  cli cert -o json list --ca "$(get issuing)" --skip 0 --limit 2
  want "len(d) == 2 and all(c['issuer_id'] == $(get issuing) for c in d)"
  cli cert -o json list --ca "$(get published)"
  want 'd == []'
  cli cert list
  grep -q 'www.example.test' "$work/last.out"
}
t_cert_show() {
  local server
  server=$(get server)
  cli cert -o json show "$server"
  want "d['id'] == $server and d['common_name'] == 'www.example.test'"
  want '"private_key" not in d or d["private_key"] is None'
}
t_cert_fields() {
  local server
  server=$(get server)
  cli cert -o json show "$server"
  no_missing "$cert_missing"
  cli cert -o json list
  no_missing "$cert_missing"
}
t_make_csrs() {
  for name in csr csr-renew; do
    openssl req -new -newkey rsa:2048 -nodes -keyout "$files/$name.key" -out "$files/$name.pem" \
      -subj "/CN=csr.example.test/O=orgtenancy" -addext "subjectAltName=DNS:csr.example.test" 2>&1
  done
}
t_sign_csr_by_id() {
  cli cert -o json sign-csr "$files/csr.pem" --ca "$(get issuing)" -t server
  issued_ok csr-signed
  want 'd["common_name"] == "csr.example.test" and d.get("private_key") is None'
  same_pubkey_csr "$files/csr.pem" "$files/csr-signed.pem"
  grep -q 'DNS:csr.example.test' "$files/csr-signed.txt"
  put csr_cert "$(val 'd["id"]')"
}
t_sign_csr_by_name() {
  cli cert -o json sign-csr "$files/csr.pem" --ca-name "$issuing_name" # the CLI's default type
  issued_ok csr-by-name
  want 'd["certificate_type"] == "server" and d.get("private_key") is None'
  same_pubkey_csr "$files/csr.pem" "$files/csr-by-name.pem"
}
t_sign_csr_ambiguous() {
  cli ca -o json create -n "Twin CA" -s "CN=Twin CA one"
  cli ca -o json create -n "Twin CA" -s "CN=Twin CA two"
  cli_refused 409 cert sign-csr "$files/csr.pem" --ca-name "Twin CA"
}
t_cert_revoke() {
  local client
  client=$(get client)
  cli cert -o json revoke "$client" -r keyCompromise -f
  want "d['id'] == $client and d['status'] == 'revoked' and d['revoked_at'] is not None"
  cli_refused 409 cert revoke "$client" -r keyCompromise -f
}
t_cert_renew_server_key() {
  local server
  server=$(get server)
  cli cert -o json renew "$server"
  issued_ok renewed
  want "d['renewed_from_id'] == $server and d['id'] != $server and d['common_name'] == 'www.example.test'"
  want 'd["private_key"].startswith("-----BEGIN")'
  val 'd["private_key"]' > "$files/renewed.key"
  same_key "$files/renewed.key" "$files/renewed.pem"
  grep -q 'DNS:www.example.test, DNS:api.example.test' "$files/renewed.txt"
  [ "$(openssl x509 -in "$files/renewed.pem" -noout -subject)" = \
    "$(openssl x509 -in "$files/server.pem" -noout -subject)" ] || { echo "the subject changed"; return 1; }
  if diff -q <(openssl x509 -in "$files/renewed.pem" -noout -pubkey) \
    <(openssl x509 -in "$files/server.pem" -noout -pubkey) > /dev/null; then
    echo "the renewed certificate kept the old key"
    return 1
  fi
}
t_cert_renew_csr() {
  local original
  original=$(get csr_cert)
  cli cert -o json renew "$original" --csr "$files/csr-renew.pem"
  issued_ok renewed-csr
  want "d['renewed_from_id'] == $original and d.get('private_key') is None"
  same_pubkey_csr "$files/csr-renew.pem" "$files/renewed-csr.pem"
}
t_cert_private_key() {
  local server
  server=$(get server)
  cli cert -o json private-key "$server"
  want "d['id'] == $server and d['private_key'].startswith('-----BEGIN')"
  val 'd["private_key"]' > "$files/server-shown.key"
  same_key "$files/server-shown.key" "$files/server.pem"
}
t_ca_delete_childless() {
  local disposable
  disposable=$(get disposable)
  cli ca delete "$disposable" -f
  grep -q "CA #$disposable deleted" "$work/last.out"
  cli_refused 404 ca show "$disposable"
}
t_ca_delete_refused() {
  local issuing root
  issuing=$(get issuing)
  root=$(get root)
  cli_refused 409 ca delete "$issuing" -f # it issued certificates
  cli_refused 409 ca delete "$root" -f    # it has a child CA
  cli ca -o json show "$issuing"
}

# Exports: files written by the CLI, then openssl.
t_export_ca_cert() {
  cli export ca-cert "$(get root)" -o "$files/root.pem"
  cli export ca-cert "$(get issuing)" -o "$files/intermediate.pem"
  cmp "$files/root.pem" "$files/root-created.pem" || diff <(openssl x509 -in "$files/root.pem") <(openssl x509 -in "$files/root-created.pem")
  openssl verify -CAfile "$files/root.pem" "$files/intermediate.pem"
}
t_export_ca_key() {
  cli export ca-key "$(get issuing)" -o "$files/intermediate.key"
  same_key "$files/intermediate.key" "$files/intermediate.pem"
}
t_export_cert() {
  cli export cert "$(get server)" -o "$files/leaf.pem"
  openssl verify -CAfile "$files/root.pem" -untrusted "$files/intermediate.pem" "$files/leaf.pem"
}
t_export_cert_key() {
  cli export cert-key "$(get server)" -o "$files/leaf.key"
  same_key "$files/leaf.key" "$files/leaf.pem"
}
t_export_cert_chain() {
  cli export cert-chain "$(get server)" -o "$files/chain.pem"
  # leaf, then the intermediate, then the root
  python3 - "$files/chain.pem" "$files/chain" <<'EOF'
import re, sys
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", open(sys.argv[1]).read(), re.S)
if len(pems) != 3:
    sys.exit(f"the chain holds {len(pems)} certificates, not 3")
for i, pem in enumerate(pems):
    open(f"{sys.argv[2]}-{i}.pem", "w").write(pem)
EOF
  local i expected=(leaf intermediate root)
  for i in 0 1 2; do
    [ "$(openssl x509 -in "$files/chain-$i.pem" -noout -fingerprint -sha256)" = \
      "$(openssl x509 -in "$files/${expected[$i]}.pem" -noout -fingerprint -sha256)" ] \
      || { echo "certificate $i of the chain is not the ${expected[$i]}"; return 1; }
  done
  openssl verify -CAfile "$files/chain-2.pem" -untrusted "$files/chain-1.pem" "$files/chain-0.pem"
}

# The public PKI files: no credentials.
t_crl_der() {
  local issuing slug got
  issuing=$(get issuing)
  slug=$(slug "$issuing_name" "$issuing")
  got=$(fetch "/crl/$slug" "$files/issuing.crl")
  echo "GET /crl/$slug -> $got"
  [[ "$got" == "200 application/pkix-crl"* ]]
  openssl crl -inform DER -in "$files/issuing.crl" -CAfile "$files/intermediate.pem" -noout 2>&1 | tee "$files/crl-verify.txt"
  grep -q 'verify OK' "$files/crl-verify.txt"
  openssl crl -inform DER -in "$files/issuing.crl" -noout -text > "$files/issuing-crl.txt"
  cat "$files/issuing-crl.txt"
  serial=$(get client_serial)
  revoked_with "$files/issuing-crl.txt" "$serial" "Key Compromise"
}
t_crl_pem() {
  local issuing root slug got
  issuing=$(get issuing)
  slug=$(slug "$issuing_name" "$issuing")
  got=$(fetch "/crl/$slug.pem" "$files/issuing-crl.pem")
  echo "GET /crl/$slug.pem -> $got"
  [[ "$got" == 200* ]]
  openssl crl -in "$files/issuing-crl.pem" -CAfile "$files/intermediate.pem" -noout 2>&1 | tee "$files/crl-pem-verify.txt"
  grep -q 'verify OK' "$files/crl-pem-verify.txt"
  openssl crl -in "$files/issuing-crl.pem" -noout -text > "$files/issuing-crl-pem.txt"
  serial=$(get client_serial)
  revoked_with "$files/issuing-crl-pem.txt" "$serial" "Key Compromise"
  # the root's CRL: signed by the root, nothing revoked
  root=$(get root)
  slug=$(slug "$root_name" "$root")
  got=$(fetch "/crl/$slug.pem" "$files/root-crl.pem")
  echo "GET /crl/$slug.pem -> $got"
  [[ "$got" == 200* ]]
  openssl crl -in "$files/root-crl.pem" -CAfile "$files/root.pem" -noout 2>&1 | grep -q 'verify OK'
}
t_ca_file_der() {
  local issuing slug got
  issuing=$(get issuing)
  slug=$(slug "$issuing_name" "$issuing")
  got=$(fetch "/ca/$slug.crt" "$files/issuing.crt")
  echo "GET /ca/$slug.crt -> $got"
  [[ "$got" == "200 application/pkix-cert"* ]]
  diff <(openssl x509 -inform DER -in "$files/issuing.crt") <(openssl x509 -in "$files/intermediate.pem")
}
t_ca_file_pem() {
  local root slug got
  root=$(get root)
  slug=$(slug "$root_name" "$root")
  got=$(fetch "/ca/$slug.pem" "$files/root-public.pem")
  echo "GET /ca/$slug.pem -> $got"
  [[ "$got" == 200* ]]
  diff <(openssl x509 -in "$files/root-public.pem") <(openssl x509 -in "$files/root.pem")
  if grep -q 'PRIVATE' "$files/root-public.pem"; then echo "a key in a public file"; return 1; fi
  got=$(fetch "/ca/no-such-ca-999999.pem" "$files/missing.pem")
  echo "GET /ca/no-such-ca-999999.pem -> $got"
  [[ "$got" == 4* ]]
}
# uri_after TEXT-FILE HEADING PREFIX: the first URI after HEADING in openssl's text.
uri_after() {
  python3 - "$1" "$2" "$3" <<'EOF'
import re, sys
text, heading, prefix = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
at = text.find(heading)
if at < 0:
    sys.exit(f"no {heading!r} extension")
m = re.search(re.escape(prefix) + r"URI:(\S+)", text[at:])
if not m:
    sys.exit(f"no {prefix}URI under {heading!r}")
print(m.group(1))
EOF
}
t_cdp_aia() {
  local issuing slug cdp aia got
  issuing=$(get issuing)
  slug=$(slug "$issuing_name" "$issuing")
  cdp=$(uri_after "$files/server.txt" "X509v3 CRL Distribution Points" "")
  aia=$(uri_after "$files/server.txt" "Authority Information Access" "CA Issuers - ")
  echo "CDP $cdp, AIA caIssuers $aia"
  [[ "$cdp" == "$base/crl/$slug"* ]] || { echo "the CDP is not $base/crl/$slug"; return 1; }
  [[ "$aia" == "$base/ca/$slug."* ]] || { echo "the AIA is not $base/ca/$slug.*"; return 1; }
  # a relying party follows them
  got=$(curl -s -o "$files/cdp.crl" -w '%{http_code}' "$cdp")
  [ "$got" = 200 ]
  openssl crl -inform "$([[ "$cdp" == *.pem ]] && echo PEM || echo DER)" -in "$files/cdp.crl" \
    -CAfile "$files/intermediate.pem" -noout 2>&1 | grep -q 'verify OK'
  got=$(curl -s -o "$files/aia.crt" -w '%{http_code}' "$aia")
  [ "$got" = 200 ]
  openssl x509 -inform "$([[ "$aia" == *.pem ]] && echo PEM || echo DER)" -in "$files/aia.crt" -noout
}
t_cdp_crl_base_url() {
  local published slug
  published=$(get published)
  slug=$(slug "Published CA" "$published")
  cli cert -o json create --ca "$published" -n pub.example.test -s "CN=pub.example.test"
  val 'd["certificate"]' > "$files/published-leaf.pem"
  openssl x509 -in "$files/published-leaf.pem" -noout -text > "$files/published-leaf.txt"
  [[ "$(uri_after "$files/published-leaf.txt" "X509v3 CRL Distribution Points" "")" == \
    "http://pki.example.test/base/crl/$slug"* ]] || { echo "the CDP is not under the CA's crl_base_url"; return 1; }
}
t_audit() {
  local root
  root=$(get root)
  cli audit -o json list -t ca
  want 'len(d) > 0 and all(e["resource_type"] == "ca" for e in d)'
  want "any(e['resource_id'] == $root for e in d)"
  cli audit list -t ca --resource-id "$root"
  grep -q "$root" "$work/last.out"
}
t_server_alive() {
  curl -sf "$base/healthz"
  if grep -q 'panicked' "$work/server.log"; then grep -n -A3 'panicked' "$work/server.log"; return 1; fi
}

check "config set server.url" t_config
check "auth login / status" t_login
check "ca create root (-k 2048 --path-length 1)" t_ca_create_root
check "ca create intermediate (-p)" t_ca_create_intermediate
check "ca create (-k 3072 -v 30 -d --allow-leaf-certs)" t_ca_create_options
check "ca create (--crl-base-url)" t_ca_create_crl_base
check "CA objects carry the SPEC §10 fields" t_ca_fields
check "ca list" t_ca_list
check "ca show" t_ca_show
check "ca chain" t_ca_chain
check "ca children" t_ca_children
check "ca private-key" t_ca_private_key
check "cert create server (--san-dns)" t_cert_server
check "cert create client (--san-email)" t_cert_client
check "cert create dual_purpose" t_cert_dual
check "cert create -t ca" t_cert_type_ca
check "cert create --no-private-key" t_cert_no_key
check "cert list (--ca, --skip, --limit)" t_cert_list
check "cert show" t_cert_show
check "certificate objects carry the §10 fields" t_cert_fields
check "openssl req: two CSRs" t_make_csrs
check "cert sign-csr --ca ID" t_sign_csr_by_id
check "cert sign-csr --ca-name" t_sign_csr_by_name
check "cert sign-csr --ca-name (two CAs) -> 409" t_sign_csr_ambiguous
check "cert revoke -r keyCompromise -f (again -> 409)" t_cert_revoke
check "cert renew (server key)" t_cert_renew_server_key
check "cert renew --csr" t_cert_renew_csr
check "cert private-key" t_cert_private_key
check "ca delete (childless)" t_ca_delete_childless
check "ca delete (has certs/children) -> 409" t_ca_delete_refused
check "export ca-cert" t_export_ca_cert
check "export ca-key" t_export_ca_key
check "export cert + openssl verify" t_export_cert
check "export cert-key" t_export_cert_key
check "export cert-chain" t_export_cert_chain
check "GET /crl/{slug} (DER)" t_crl_der
check "GET /crl/{slug}.pem" t_crl_pem
check "GET /ca/{slug}.crt (DER)" t_ca_file_der
check "GET /ca/{slug}.pem" t_ca_file_pem
check "CDP + AIA caIssuers in an issued cert" t_cdp_aia
check "CDP under the CA's crl_base_url" t_cdp_crl_base_url
check "audit list -t ca" t_audit
check "server alive, no panic" t_server_alive

echo "== fastpki $FASTPKI_VERSION against the server ($backend)"
python3 - "${#labels[@]}" "${labels[@]}" "${statuses[@]}" "${results[@]}" <<'EOF'
import sys
n = int(sys.argv[1])
rows = list(zip(sys.argv[2:2 + n], sys.argv[2 + n:2 + 2 * n], sys.argv[2 + 2 * n:2 + 3 * n]))
rows.insert(0, ("command", "status", "ok/FAIL"))
w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
for a, b, c in rows:
    print(f"{a:<{w0}} | {b:<{w1}} | {c}")
EOF
if [ "$failed" -ne 0 ]; then
  echo "== server log (last 30 lines)"
  tail -n 30 "$work/server.log"
fi
exit "$failed"
