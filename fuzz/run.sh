#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, growing the saved corpus in fuzz/corpus/<target>.
#
#   fuzz/run.sh            # 60 s per target
#   fuzz/run.sh 300        # 300 s per target
#   fuzz/run.sh 30 engine  # only the named targets
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). This machine has stable Rust only:
# RUSTC_BOOTSTRAP=1 lets stable accept the nightly flags cargo-fuzz passes (-Zsanitizer=...).
# Set FUZZ_SANITIZER=none if AddressSanitizer is unavailable (the engine has no unsafe code,
# so the sanitizer adds little). After a run, `cargo test -p orgtenancy-fuzz-checks
# --all-features` replays the grown corpus; commit the new files under fuzz/corpus/.
# FUZZ_CMIN=1 shrinks each corpus afterwards to a minimal set with the same coverage.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(engine json_bodies token)
fi
sanitizer="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

for target in "${targets[@]}"; do
  features=()
  if [ "$target" = json_bodies ] || [ "$target" = token ]; then
    features=(--features server)
  fi
  mkdir -p "corpus/$target"
  echo "== $target for ${seconds}s (sanitizer: $sanitizer)"
  cargo fuzz run --sanitizer "$sanitizer" "${features[@]}" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1
  if [ "${FUZZ_CMIN:-0}" = 1 ]; then
    # Shrink the saved corpus to a minimal set with the same coverage.
    cargo fuzz cmin --sanitizer "$sanitizer" "${features[@]}" "$target" "corpus/$target"
  fi
  echo "== $target: $(find "corpus/$target" -type f | wc -l) files in corpus/$target"
done
