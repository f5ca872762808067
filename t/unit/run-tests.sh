#!/bin/sh
# t/unit/run-tests.sh — runs cmocka test binaries, prints per-binary results
# and "unit: N passed, N failed" (test cases); exit 1 on any failure.
# A binary that crashes or exits non-zero without a reported failure counts
# its unfinished test (or itself) as one failure.
total_pass=0
total_fail=0
for bin in "$@"; do
    name=$(basename "$bin")
    out=$("$bin" 2>&1)
    rc=$?
    run=$(printf '%s\n' "$out" | grep -c '^\[ RUN      \]')
    ok=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
    fail=$((run - ok))
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
        fail=1
    fi
    if [ "$fail" -ne 0 ]; then
        printf '%s\n' "$out"
    fi
    printf '%-16s %3d passed, %d failed\n' "$name:" "$ok" "$fail"
    total_pass=$((total_pass + ok))
    total_fail=$((total_fail + fail))
done
echo "unit: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
