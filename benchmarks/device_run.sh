#!/usr/bin/env bash
# The owed GPU measurement in ONE device call (issue "bench ... beat the reference runner"),
# sized to fit a 600 s command inside a 15-minute device budget. Prepare first, here:
#   bash benchmarks/device_prep.sh /path/to/SwiftVR
# then call the device tool with command "bash benchmarks/device_run.sh", carry
# [".whl", ".ref"], timeout_s 560. Every step has its own time limit, so one failure or
# overrun leaves the others' results; all of them land in $OUT (at most 8 files):
#   ours_<gpu>_${DTYPE}.json            ours, model-only and end-to-end, 1440p and 4K, chunk 24
#   ours_<gpu>_${DTYPE}_compiled.json   the same with --compile
#   ours_<gpu>_<largest res>_reae1.json  4K peak memory with one latent per ReAE pass
#   official_<gpu>_${DTYPE}.json        the release's own GPU-worker body, same protocol
#   compare_<gpu>_${DTYPE}{,_compiled}.md compare_bench.py's tables (speed-up, memory, e2e/model)
#   log.txt                         versions, nvidia-smi and every step's output
# Copy the JSON and markdown into benchmarks/results/ and commit them.
#
# A CPU dry run of the same script (tiny configs, small frames), as tested here:
#   OUT=/tmp/dry DEVICE=cpu DTYPE=float32 RES=128x96 OURS_CONFIG=test REF_CONFIG=tiny WHEELS=none \
#     PY=.venv/bin/python REF_PY=/work/ref/venv/bin/python bash benchmarks/device_run.sh
set -u
OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT"
LOG="$OUT/log.txt"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
REF_PY=${REF_PY:-$PY}  # on the device one python serves both runners
WHEELS=${WHEELS:-.whl}
DEVICE=${DEVICE:-cuda}
DTYPE=${DTYPE:-bfloat16}
RES=${RES:-1440p,4k}
BIG=${RES##*,}  # the largest resolution: the peak-memory check
OURS_CONFIG=${OURS_CONFIG:-official}  # ours --random-weights
REF_CONFIG=${REF_CONFIG:-official}  # bench_reference.py --random-weights

step() {  # step SECONDS NAME COMMAND...: run with a limit, log it, never stop the script
    local limit=$1 name=$2
    shift 2
    echo "=== $name (limit ${limit}s): $*" | tee -a "$LOG"
    local start=$SECONDS
    timeout --kill-after=10 "$limit" "$@" >> "$LOG" 2>&1
    echo "=== $name: exit $? after $((SECONDS - start)) s" | tee -a "$LOG"
}

if [ -d "$WHEELS" ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl >> "$LOG" 2>&1 \
        || echo "wheel install failed (see log)" | tee -a "$LOG"
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
tag=$(echo "$gpu" | grep -oiE 'h100|h200|a100|l40s|b200' | head -1 | tr 'A-Z' 'a-z')
tag=${tag:-$DEVICE}
{
    echo "gpu: $gpu"
    nvidia-smi 2>&1 | head -15
    $PY -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)"
    $PY -c "import av; print('av', av.__version__)" 2>&1
    $REF_PY -c "import diffusers; print('diffusers', diffusers.__version__)" 2>&1
} >> "$LOG" 2>&1

SWIFTVR=($PY -c "from swiftvr_cli.cli import app; app()")
SWEEP=(--res "$RES" --chunk 24 --chunks 8 --device "$DEVICE" --dtype "$DTYPE")

step 150 ours "${SWIFTVR[@]}" bench --random-weights "$OURS_CONFIG" "${SWEEP[@]}" --e2e --json "$OUT/ours_${tag}_${DTYPE}.json"
step 200 ours-compiled "${SWIFTVR[@]}" bench --random-weights "$OURS_CONFIG" "${SWEEP[@]}" --model-only --compile \
    --json "$OUT/ours_${tag}_${DTYPE}_compiled.json"
step 60 ours-4k-reae1 "${SWIFTVR[@]}" bench --random-weights "$OURS_CONFIG" --res "$BIG" --chunk 24 --chunks 2 \
    --device "$DEVICE" --dtype "$DTYPE" --model-only --reae-group 1 --json "$OUT/ours_${tag}_${BIG}_reae1.json"
if [ -d .ref/SwiftVR ]; then
    step 120 official "$REF_PY" benchmarks/bench_reference.py --ref-repo .ref/SwiftVR --random-weights "$REF_CONFIG" \
        "${SWEEP[@]}" --json "$OUT/official_${tag}_${DTYPE}.json"
    for ours in "$DTYPE" "${DTYPE}_compiled"; do
        [ -f "$OUT/ours_${tag}_${ours}.json" ] && [ -f "$OUT/official_${tag}_${DTYPE}.json" ] && \
            step 20 "compare-$ours" $PY benchmarks/compare_bench.py "$OUT/ours_${tag}_${ours}.json" "$OUT/official_${tag}_${DTYPE}.json" \
                --markdown "$OUT/compare_${tag}_${ours}.md" --title "${gpu:-$DEVICE}, $DTYPE, random $OURS_CONFIG weights, chunk 24 (ours: $ours)"
    done
else
    echo "no .ref/SwiftVR: the release was not carried (benchmarks/device_prep.sh), official side skipped" | tee -a "$LOG"
fi
ls -la "$OUT" | tee -a "$LOG"
