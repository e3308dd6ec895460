#!/usr/bin/env bash
# Mutation run over sa-node's consensus core, with the conformance suite as the only test:
# every mutant is a broken sa-node; the checked-in suites (conformance/traces/default and
# byzantine, replayed by impl/tests/conformance_suite.rs) must fail on it ("caught").
# Installs cargo-mutants if missing. Extra arguments go to cargo-mutants (e.g. --shard 0/4,
# -j 2, --list). Results: target/mutants/mutants.out/{caught,missed,timeout,unviable}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install --locked cargo-mutants@27.1.0
fi
files=(
    impl/src/node/tally.rs
    impl/src/node/steps.rs
    impl/src/node/accept.rs
    impl/src/node/verify.rs
    impl/src/node/draws.rs
    impl/src/finality.rs
    impl/src/sortition.rs
    impl/src/tally.rs
)
# cargo-mutants writes target/mutants but does not create target/ (a fresh clone has none).
mkdir -p target
args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
exec cargo mutants --package sa-node --profile mutants "${args[@]}" \
    --timeout 120 --build-timeout 600 --output target/mutants \
    --cargo-arg=--test --cargo-arg=conformance_suite "$@"
