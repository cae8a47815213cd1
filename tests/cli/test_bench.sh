#!/usr/bin/env bash
# `twinpix bench` through the command line: --quick writes the four files, they parse, every op of the
# descriptors is there, and --compare-with prints and records the ratios. No time is asserted.
set -u
TWINPIX=${TWINPIX:?set TWINPIX to the twinpix executable}
PY=/usr/bin/python3
help=$("$TWINPIX" bench --help 2>&1)
if [ $? -eq 77 ] || ! printf '%s' "$help" | grep -q "usage: twinpix bench"; then
  echo "skipped: this twinpix has no benchmarks ($(printf '%s' "$help" | head -1))"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# usage errors are exit 2 and say what is wrong
"$TWINPIX" bench --op no_such_op --out "$tmp/x" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown op 'no_such_op'" "$tmp/err" || { echo "FAIL: --op no_such_op"; fail=1; }
"$TWINPIX" bench --size 0 --out "$tmp/x" 2>/dev/null
[ $? -eq 2 ] || { echo "FAIL: --size 0 is not a usage error"; fail=1; }
[ -e "$tmp/x" ] && { echo "FAIL: a usage error created the output folder"; fail=1; }

"$TWINPIX" bench --quick --out "$tmp/a" >"$tmp/a.stdout" 2>"$tmp/a.stderr"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: bench --quick exited $rc"; tail -5 "$tmp/a.stderr"; fail=1; }
for f in gbench.json bench.json report.md report.html; do
  [ -s "$tmp/a/$f" ] || { echo "FAIL: $f not written"; fail=1; }
done
grep -q "^\[ *1/[0-9]*\] " "$tmp/a.stderr" || { echo "FAIL: no progress lines on stderr"; fail=1; }
"$TWINPIX" ops --json >"$tmp/ops.json" 2>/dev/null || echo '[]' >"$tmp/ops.json"

"$PY" - "$tmp/a" "$tmp/ops.json" <<'PYEOF' || fail=1
import json, sys
d = sys.argv[1]
doc = json.load(open(d + "/bench.json"))
assert doc["schema_version"] == "twinpix.bench/1"
meta = doc["meta"]
for k in ("version", "git_commit", "build_flags", "host_cpu", "host_threads", "gpu", "copy_bandwidth_gbs"):
    assert k in meta, k
results, pipes = doc["results"], doc["pipeline"]
assert results and pipes
backends = {"cpu-1t", "cpu-Nt", "cuda", "cuda+transfers"}
for r in results:
    assert r["backend"] in backends, r["backend"]
    for k in ("op", "shape", "dtype", "median_ms", "min_ms", "max_ms", "stddev_ms", "samples", "bytes_min",
              "fraction_of_copy_bw", "h2d_ms", "d2h_ms", "peak_device_bytes", "peak_host_bytes"):
        assert k in r, k
    if r["skipped"]:
        assert r["skip_reason"] and r["median_ms"] is None, r
    else:
        assert r["samples"] >= 1 and 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"], r
        assert r["bytes_min"] > 0, r
    assert (r["fraction_of_copy_bw"] is None) or r["backend"] == "cuda"
# every op of the descriptors is benchmarked (the list comes from the descriptors, not from a hand list)
try:
    ops = json.load(open(sys.argv[2]))
    ops = ops["ops"] if isinstance(ops, dict) else ops
    names = {o["name"] if isinstance(o, dict) else o for o in ops}
except Exception:
    names = set()
if names:
    assert names == {r["op"] for r in results}, names ^ {r["op"] for r in results}
# --quick sizes
assert {tuple(r["shape"]) for r in results} <= {(256, 256), (640, 640), (32, 32, 32)}
if meta["gpu"] is None:
    assert isinstance(meta["gpu_unavailable_reason"], str) and meta["gpu_unavailable_reason"]
    assert meta["copy_bandwidth_gbs"] is None
    assert not [r for r in results if r["backend"].startswith("cuda")]
    assert "GPU columns are absent" in open(d + "/report.md").read()
for p in pipes:
    assert p["shape"] == [640, 640] and p["backend"] in backends
    if not p["skipped"]:
        names_ = [s["name"] for s in p["stages"]]
        assert "gaussian" in names_ and "regionprops_table" in names_, names_
        # seed-core, the peers' pipeline on one grey channel: no extract_channel, no label2rgb
        assert (p["name"] == "seed-core") == ("label2rgb" not in names_ and "extract_channel" not in names_), p
    if p["backend"] == "cuda+transfers":
        assert p["io"] == {"seed": "host image in, host table out",
                           "seed-core": "pinned host image in, host table out"}[p["name"]], p
assert {p["name"] for p in pipes} == {"seed", "seed-core"}
# PERFORMANCE.md's targets, judged on this run: a quick run has no 8192^2 result, so none is judged
targets = doc["targets"]
assert len(targets) == 23 and all(t["status"] in ("met", "missed", "not in this run") for t in targets)
assert sum(t["metric"] == "times_bytes_floor" and len(t["shape"]) == 3 for t in targets) == 12
for t in targets:
    assert (t["measured"] is None) == (t["status"] == "not in this run"), t
assert {t["status"] for t in targets if t["shape"] == [8192, 8192]} == {"not in this run"}
for s in doc["speedups"]:
    assert {"op", "shape", "dtype", "cpu_ms", "gpu_ms", "gpu_with_transfers_ms", "speedup",
            "speedup_with_transfers"} <= set(s)
for c in doc["crossovers"]:
    assert c["pixels"] is None or c["pixels"] > 0
gb = json.load(open(d + "/gbench.json"))
assert "context" in gb and len(gb["benchmarks"]) == len(results) + len(pipes), len(gb["benchmarks"])
assert all(b["name"] for b in gb["benchmarks"])
html = open(d + "/report.html").read()
assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "<link" not in html
assert ("<svg" in html) == any(not p["skipped"] for p in pipes) or meta["gpu"] is not None
md = open(d + "/report.md").read()
assert md.startswith("# twinpix benchmark report") and "## Ops (median ms)" in md
assert md.index("## Targets (../shared/PERFORMANCE.md)") < md.index("## Ops (median ms)")
PYEOF

# --render writes the same reports again from bench.json alone
"$TWINPIX" bench --render "$tmp/a/bench.json" --out "$tmp/r" 2>/dev/null
[ $? -eq 0 ] && cmp -s "$tmp/a/report.md" "$tmp/r/report.md" && cmp -s "$tmp/a/report.html" "$tmp/r/report.html" ||
  { echo "FAIL: --render does not reproduce report.md and report.html"; fail=1; }

# a second, small run compared with the first
"$TWINPIX" bench --quick --op threshold --size 256 --backend cpu-1t --no-pipeline --out "$tmp/b" \
  --compare-with "$tmp/a/bench.json" >"$tmp/b.stdout" 2>"$tmp/b.stderr"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: bench --compare-with exited $rc"; tail -5 "$tmp/b.stderr"; fail=1; }
grep -q "^comparison with" "$tmp/b.stdout" || { echo "FAIL: no comparison table on stdout"; fail=1; }
"$PY" - "$tmp/b" <<'PYEOF' || fail=1
import json, sys
doc = json.load(open(sys.argv[1] + "/bench.json"))
r = doc["results"]
assert len(r) == 1 and r[0]["op"] == "threshold" and r[0]["backend"] == "cpu-1t" and r[0]["shape"] == [256, 256]
cmp = doc["comparison"]
if not r[0]["skipped"]:
    assert len(cmp["entries"]) == 1, cmp
    e = cmp["entries"][0]
    assert e["verdict"] in ("faster", "slower", "same") and abs(e["ratio"] - e["new_ms"] / e["old_ms"]) < 1e-9
assert "## Compared with" in open(sys.argv[1] + "/report.md").read()
PYEOF

# an unreadable comparison file fails before running anything
"$TWINPIX" bench --quick --op threshold --out "$tmp/c" --compare-with "$tmp/absent.json" 2>/dev/null
[ $? -eq 3 ] || { echo "FAIL: --compare-with a missing file is not an I/O error"; fail=1; }
[ -e "$tmp/c" ] && { echo "FAIL: the failed comparison still ran"; fail=1; }

[ $fail -eq 0 ] && echo "ok" || exit 1
