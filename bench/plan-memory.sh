#!/usr/bin/env bash
# npm run bench:plan — peak RSS and time of `tju plan` at 100,000 and 1,000,000 targets (three runs each), and
# at 1,000,000 with V8's heap capped at 40 MB: a plan keeps counts and a few examples, never the targets.
# Uses the bench database (tju_bench) and empties its billing tables.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tju_bench}"
plan() { node bin/tju.js --config examples/billing/tju.config.ts plan billing.issue-invoices --date 2031-01-01 --json; }
for n in 100000 1000000; do
  psql -q "$DATABASE_URL" -c "TRUNCATE invoices, subscriptions, tju.ledger, tju.failures RESTART IDENTITY CASCADE" \
    -c "INSERT INTO subscriptions (customer, status, monthly_fee, payment_method) SELECT 'customer-' || g, 'active', 10, 'card' FROM generate_series(1, $n) g" \
    -c "VACUUM ANALYZE subscriptions"
  for run in 1 2 3; do
    /usr/bin/time -f "$n targets, run $run: %M KB peak RSS, %e s" bash -c "$(declare -f plan); plan" 2>&1 >/dev/null | tail -1
  done
done
NODE_OPTIONS=--max-old-space-size=40 /usr/bin/time -f "1000000 targets, heap capped at 40 MB: %M KB peak RSS, %e s" \
  bash -c "$(declare -f plan); plan" 2>&1 >/dev/null | tail -1
