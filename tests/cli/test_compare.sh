#!/usr/bin/env bash
# `twinpix compare` through the command line: --quick on a few ops writes the three reports, the JSON and
# the JUnit XML parse, and the exit status says what happened (77 without a GPU, 0 or 1 with one).
set -u
TWINPIX=${TWINPIX:?set TWINPIX to the twinpix executable}
PY=/usr/bin/python3
if ! "$TWINPIX" compare --help 2>/dev/null | grep -q "usage: twinpix compare"; then
  echo "skipped: this twinpix does not dispatch 'compare' to compare/compare_cli.c yet"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$TWINPIX" compare --quick --op threshold --op extract_channel --dataset synthetic --no-pipelines --out "$tmp" >"$tmp/stdout"
rc=$?
for f in compare.json compare.junit.xml compare.txt; do
  [ -s "$tmp/$f" ] || { echo "FAIL: $f not written"; fail=1; }
done
grep -q "^total" "$tmp/stdout" || { echo "FAIL: no summary table on stdout"; fail=1; }
"$PY" - "$tmp" "$rc" <<'PYEOF' || fail=1
import json, sys, xml.etree.ElementTree as ET
d, rc = sys.argv[1], int(sys.argv[2])
doc = json.load(open(d + "/compare.json"))
assert doc["schema_version"] == "twinpix.compare/1"
cases = doc["cases"]
assert cases and {c["op"] for c in cases} == {"threshold", "extract_channel"}, {c["op"] for c in cases}
verdicts = {c["verdict"] for c in cases}
gpu = doc["meta"]["gpu"]
if gpu is None:
    assert verdicts == {"skip"} and rc == 77, (verdicts, rc)
    assert all(c["skip_reason"] == doc["meta"]["gpu_unavailable_reason"] for c in cases)
    assert all(isinstance(c["time_ms"]["cpu"], float) for c in cases)  # the CPU side ran (--quick)
else:
    assert rc == (1 if "fail" in verdicts else 0), (verdicts, rc)
s = doc["summary"]
assert s["pass"] + s["fail"] + s["skip"] == len(cases)
root = ET.parse(d + "/compare.junit.xml").getroot()
assert root.tag == "testsuites"
assert {t.get("name") for t in root} == {"threshold", "extract_channel"}
assert sum(1 for _ in root.iter("testcase")) == len(cases)
assert sum(1 for _ in root.iter("skipped")) == s["skip"]
assert sum(1 for _ in root.iter("failure")) == s["fail"]
PYEOF
# a bad option is a usage error
"$TWINPIX" compare --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: a bad option should exit 2"; fail=1; }
[ $fail -eq 0 ] && echo "ok" || exit 1
