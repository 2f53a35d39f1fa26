#!/usr/bin/env bash
# Prints why each skipped test skipped (GoogleTest's GTEST_SKIP message), from ctest's
# last log: `make test` runs it after ctest so a machine without network namespaces,
# Slurm or Open MPI says what it did not test. Usage: scripts/print_skips.sh BUILD_DIR
log="${1:-build/release}/Testing/Temporary/LastTest.log"
[ -f "$log" ] || exit 0
awk '
  /: Skipped$/ { getline reason; next }
  /^\[  SKIPPED \] [^ ]+ \(/ { name = $4; print "skipped " name ": " reason; n++ }
  END { if (n > 0) print n " test(s) skipped (reasons above)" }
' "$log" | sort -u | sort -k1,1r
