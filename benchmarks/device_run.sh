#!/usr/bin/env bash
# The owed GPU measurement in ONE device call (issue "bench ... beat the reference runner"),
# sized to fit a 600 s command inside a 15-minute device budget. Prepare first, here:
#   bash benchmarks/device_prep.sh /path/to/SwiftVR
# then call the device tool with command "bash benchmarks/device_run.sh", carry
# [".whl", ".ref"], timeout_s 560. Every step has its own time limit, so one failure or
# overrun leaves the others' results; all of them land in $OUT:
#   ours_<gpu>_${DTYPE}.json            ours, model-only and end-to-end, 1440p and 4K, chunk 24
#   ours_<gpu>_${DTYPE}_compiled.json   the same with --compile
#   ours_<gpu>_<largest res>_reae1.json  4K peak memory with one latent per ReAE pass
#   offload_<gpu>_${DTYPE}.json          ours with --offload (DiT blocks streamed from pinned host memory),
#                                   1440p and 4K, from a full-size random checkpoint written first
#   cap24_<gpu>_<res>.json / plan24_<gpu>_<res>.json  the settings `swiftvr plan --memory 24GB` picks, run
#   official_<gpu>_${DTYPE}.json        the release's own GPU-worker body, same protocol
#   compare_<gpu>_${DTYPE}{,_compiled}.md compare_bench.py's tables (speed-up, memory, e2e/model)
#   log.txt                         versions, nvidia-smi and every step's output
# Copy the JSON and markdown into benchmarks/results/ and commit them.
# Steps run in order of what is owed: ours, the release, then --offload and the 24 GB cap,
# the compiled run last; each step's limit is cut to what is left of BUDGET seconds, and a
# step with less than 30 s left is skipped (the log says so).
#
# A CPU dry run of the same script (tiny configs, small frames), as tested here:
#   OUT=/tmp/dry DEVICE=cpu DTYPE=float32 RES=128x96 OURS_CONFIG=test REF_CONFIG=tiny WHEELS=none \
#     PY=.venv/bin/python REF_PY=/work/ref/venv/bin/python CKPT=/tmp/tinyck CAP=2GB bash benchmarks/device_run.sh
#   (CKPT: an existing checkpoint instead of writing the full-size one, e.g. a tiny one from
#    swiftvr_cli.testing.tiny_checkpoint; CAP: the memory the planner must fit.)
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
CKPT=${CKPT:-}  # a checkpoint folder for --offload (empty: write a full-size random one to /tmp/fullsize)
CAP=${CAP:-24GB}  # the memory cap the planner's choice is measured under
BUDGET=${BUDGET:-550}  # seconds this call may take (the device call's timeout_s less a margin)

step() {  # step SECONDS NAME COMMAND...: run with a limit, log it, never stop the script
    local limit=$1 name=$2
    shift 2
    local left=$((BUDGET - SECONDS))
    if [ "$left" -lt 30 ]; then
        echo "=== $name: skipped, only ${left}s of the ${BUDGET}s budget left" | tee -a "$LOG"
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
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
step 60 ours-4k-reae1 "${SWIFTVR[@]}" bench --random-weights "$OURS_CONFIG" --res "$BIG" --chunk 24 --chunks 2 \
    --device "$DEVICE" --dtype "$DTYPE" --model-only --reae-group 1 --json "$OUT/ours_${tag}_${BIG}_reae1.json"

if [ -d .ref/SwiftVR ]; then
    step 120 official "$REF_PY" benchmarks/bench_reference.py --ref-repo .ref/SwiftVR --random-weights "$REF_CONFIG" \
        "${SWEEP[@]}" --json "$OUT/official_${tag}_${DTYPE}.json"
else
    echo "no .ref/SwiftVR: the release was not carried (benchmarks/device_prep.sh), official side skipped" | tee -a "$LOG"
fi

# --offload needs weights in a file: a full-size random checkpoint in the official layout,
# its random numbers drawn on the GPU (seconds), written to the local disk (10 GB).
if [ -z "$CKPT" ]; then
    CKPT=/tmp/fullsize
    step 120 write-checkpoint $PY benchmarks/fullsize_checkpoint.py "$CKPT" --device "$DEVICE"
fi
if [ -d "$CKPT/transformer" ]; then
    step 120 ours-offload "${SWIFTVR[@]}" bench --weights "$CKPT" --offload --res "$RES" --chunk 24 --chunks 2 \
        --device "$DEVICE" --dtype "$DTYPE" --model-only --json "$OUT/offload_${tag}_${DTYPE}.json"
    for res in ${RES//,/ }; do  # the planner's pick under the cap, then that pick measured
        timeout 60 "${SWIFTVR[@]}" plan --weights "$CKPT" --res "$res" --chunk 24 --memory "$CAP" --device "$DEVICE" --dtype "$DTYPE" \
            --json > "$OUT/plan24_${tag}_${res}.json" 2>> "$LOG"
        flags=$($PY -c "import json, sys; rows = [r for r in json.load(open(sys.argv[1]))['settings'] if r['chosen']]; print(rows[0]['settings'] if rows else '')" \
            "$OUT/plan24_${tag}_${res}.json" 2>> "$LOG")
        if [ -z "$flags" ]; then
            echo "=== cap-$res: the planner found nothing that fits $CAP" | tee -a "$LOG"
            continue
        fi
        # bench sweeps chunks from one --chunk list; the chosen flags give a single chunk
        step 90 "cap-$res ($flags)" "${SWIFTVR[@]}" bench --weights "$CKPT" --res "$res" $flags --chunks 2 \
            --device "$DEVICE" --dtype "$DTYPE" --model-only --json "$OUT/cap24_${tag}_${res}.json"
    done
else
    echo "no checkpoint at $CKPT: the --offload and memory-cap steps were skipped" | tee -a "$LOG"
fi

step 200 ours-compiled "${SWIFTVR[@]}" bench --random-weights "$OURS_CONFIG" "${SWEEP[@]}" --model-only --compile \
    --json "$OUT/ours_${tag}_${DTYPE}_compiled.json"
for ours in "$DTYPE" "${DTYPE}_compiled"; do
    [ -f "$OUT/ours_${tag}_${ours}.json" ] && [ -f "$OUT/official_${tag}_${DTYPE}.json" ] && \
        step 20 "compare-$ours" $PY benchmarks/compare_bench.py "$OUT/ours_${tag}_${ours}.json" "$OUT/official_${tag}_${DTYPE}.json" \
            --markdown "$OUT/compare_${tag}_${ours}.md" --title "${gpu:-$DEVICE}, $DTYPE, random $OURS_CONFIG weights, chunk 24 (ours: $ours)"
done
ls -la "$OUT" | tee -a "$LOG"
