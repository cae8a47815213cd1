#!/usr/bin/env bash
# `twinpix run` on a synthetic 3D volume (--synthetic ZxYxX): the seed pipeline runs in 3D (the erosion's
# disk:2 becomes ball:2), run.json has every stage with its digest, dtype, shape and memory, the backend's
# peaks and the liveness counters; the written files are there; --write-stages none writes no stage image;
# a second run is bit-identical to the first through --parity-with (digests), and a differing one fails.
set -u
TWINPIX=${TWINPIX:?set TWINPIX to the twinpix executable}
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$TWINPIX" run --synthetic 40x48x56 --backend cpu --repeat 1 --out "$tmp/a" >"$tmp/a.stdout" 2>"$tmp/a.stderr"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: run exited $rc"; cat "$tmp/a.stderr"; fail=1; }
for f in run.json labels.tif overlay.tif regionprops.csv regionprops.json threshold.json stage_blurred.tif; do
  [ -s "$tmp/a/$f" ] || { echo "FAIL: $f not written"; fail=1; }
done
[ -e "$tmp/a/overlay.png" ] && { echo "FAIL: a 3D overlay written as PNG"; fail=1; }
grep -q "^total: cpu" "$tmp/a.stdout" || { echo "FAIL: no total line on stdout"; fail=1; }
grep -q "ball:2" "$tmp/a.stderr" || { echo "FAIL: the 3D footprint adaptation is not reported"; fail=1; }
"$PY" - "$tmp/a/run.json" <<'PYEOF' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema_version"] == "twinpix.run/1"
assert d["shape"] == "40x48x56" and d["dtype"] == "uint8" and d["elements"] == 40 * 48 * 56, d["shape"]
assert d["image_name"] == "synthetic_40x48x56", d["image_name"]
assert "ball:2" in d["adapted"]
assert d["parity_identical"] is None and d["parity_skip_reason"]
assert d["write_stages"] == "auto"
st = {s["name"]: s for s in d["stages"]}
assert [s["name"] for s in d["stages"]] == ["channel", "blurred", "threshold", "binary", "eroded", "labels",
                                            "overlay", "table"]
assert st["channel"]["skipped"] is True
assert st["eroded"]["params"] == "footprint=ball:2", st["eroded"]["params"]
n = 40 * 48 * 56
want = {"blurred": ("float64", "40x48x56", 8 * n), "binary": ("bool", "40x48x56", n),
        "eroded": ("bool", "40x48x56", n), "labels": ("int32", "40x48x56", 4 * n),
        "overlay": ("float64", "40x48x56x3", 24 * n), "threshold": ("float64", "1", 8)}
for name, (dt, shape, nbytes) in want.items():
    s = st[name]
    assert (s["dtype"], s["shape"], s["bytes"]) == (dt, shape, nbytes), (name, s["dtype"], s["shape"], s["bytes"])
for name in ["blurred", "threshold", "binary", "eroded", "labels", "overlay", "table"]:
    s = st[name]
    assert s["cpu_ms"] >= 0 and s["cpu"]["ms"] == s["cpu_ms"], name
    assert len(s["digest_cpu"]) == 16 and int(s["digest_cpu"], 16) >= 0 and s["cpu"]["digest"] == s["digest_cpu"]
    assert "cuda_ms" not in s and "parity_identical" not in s
    assert s["cpu"]["held_bytes"] > 0
    r = s["cpu"]["peak_host_rss_bytes"]
    assert r is None or r > 0
assert len({st[k]["digest_cpu"] for k in ["blurred", "binary", "eroded", "labels", "overlay"]}) == 5
assert st["table"]["kind"] == "table" and st["table"]["rows"] >= 1 and st["table"]["file"] == "regionprops.csv"
assert st["labels"]["file"] == "labels.tif" and st["overlay"]["file"] == "overlay.tif"
# the runner frees each result once nothing later reads it: at the overlay step it holds the input, the
# labels and the overlay only (not the blurred float64 image nor the masks)
assert st["overlay"]["cpu"]["held_bytes"] == n + 4 * n + 24 * n, st["overlay"]["cpu"]["held_bytes"]
assert st["table"]["cpu"]["held_bytes"] == n + 4 * n + st["table"]["bytes"]
assert st["blurred"]["cpu"]["held_bytes"] == n + 8 * n
b = d["backends"]["cpu"]
assert b["peak_held_bytes"] == 29 * n, b["peak_held_bytes"]
assert b["results_freed_before_the_end"] == 7, b["results_freed_before_the_end"]
assert b["wall_ms"] >= b["pipeline_ms"] > 0 and b["digest_ms"] >= 0
assert b["peak_host_rss_bytes"] is None or b["peak_host_rss_bytes"] > 29 * n
assert "cuda" not in d["backends"]
assert d["total"]["cpu_ms"] > 0
PYEOF
# the same volume again, no stage images, compared by digest with the first run: identical
"$TWINPIX" run --synthetic 40x48x56 --backend cpu --repeat 2 --write-stages none --parity-with "$tmp/a/run.json" \
  --out "$tmp/b" >"$tmp/b.stdout" 2>"$tmp/b.stderr" || { echo "FAIL: parity-with run exited $?"; cat "$tmp/b.stderr"; fail=1; }
for f in labels.tif overlay.tif stage_blurred.tif; do
  [ -e "$tmp/b/$f" ] && { echo "FAIL: --write-stages none wrote $f"; fail=1; }
done
[ -s "$tmp/b/regionprops.csv" ] || { echo "FAIL: --write-stages none must still write the table"; fail=1; }
"$PY" - "$tmp/a/run.json" "$tmp/b/run.json" <<'PYEOF' || fail=1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["parity_identical"] is True and b["parity_with"].endswith("run.json")
for sa, sb in zip(a["stages"], b["stages"]):
    if sa.get("skipped"):
        continue
    assert sa["digest_cpu"] == sb["digest_cpu"], sa["name"]
    assert sb["parity_identical"] is True
    assert sb["file"] is None or sb["name"] in ("threshold", "table"), sb
    if sb["name"] not in ("threshold", "table"):
        assert sb["not_written_reason"] == "--write-stages none"
PYEOF
# a different pipeline (sigma 2) differs from the first run at every stage from the blur on: exit 1
"$TWINPIX" run --synthetic 40x48x56 --backend cpu --repeat 1 --set blurred.sigma=2 --parity-with "$tmp/a/run.json" \
  --out "$tmp/c" >"$tmp/c.stdout" 2>&1
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: a differing run should exit 1, got $rc"; fail=1; }
grep -q "DIFFERS (digest)" "$tmp/c.stdout" || { echo "FAIL: no DIFFERS verdict"; fail=1; }
# 2D forms: YxX and N
"$TWINPIX" run --synthetic 24x40 --backend cpu --repeat 1 --write-stages none --out "$tmp/d" >/dev/null 2>&1 &&
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['shape']=='24x40' and 'adapted' not in d" \
    "$tmp/d/run.json" || { echo "FAIL: --synthetic 24x40"; fail=1; }
"$TWINPIX" run --synthetic 32 --backend cpu --repeat 1 --write-stages none --out "$tmp/e" >/dev/null 2>&1 &&
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['shape']=='32x32' and d['image_name']=='synthetic_32'" \
    "$tmp/e/run.json" || { echo "FAIL: --synthetic 32"; fail=1; }
# usage errors
for bad in "--synthetic 0" "--synthetic 4x4x4x4" "--synthetic 10xx3" "--synthetic 99999" "--write-stages some"; do
  "$TWINPIX" run $bad --backend cpu --out "$tmp/x" >/dev/null 2>&1
  [ $? -eq 2 ] || { echo "FAIL: 'run $bad' should exit 2"; fail=1; }
done
"$TWINPIX" run --synthetic 8x8 --backend both --parity-with "$tmp/a/run.json" --out "$tmp/x" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: --parity-with with two backends should exit 2"; fail=1; }
"$TWINPIX" run --help | grep -q "ZxYxX" || { echo "FAIL: usage does not mention ZxYxX"; fail=1; }
[ $fail -eq 0 ] && echo "ok" || exit 1
