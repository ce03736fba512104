#!/usr/bin/env bash
# The GPU figures the README and docs quote, in parts that each fit a 10-minute slot:
#
#   bash benchmarks/gpu_figures.sh engine  DIR   # figure1.m check, bare ceiling, throughput, torch ratio
#   bash benchmarks/gpu_figures.sh assess  DIR   # assess the models in $MODELS over all 20 patterns
#   bash benchmarks/gpu_figures.sh network DIR   # 1000-variant sweep; full-size E/I networks
#                                                # (110 x 2 s, 110 x 40 s) and the same in Brian2
#   bash benchmarks/gpu_figures.sh loops   DIR   # the recording loop's layouts (simulate.LoopShape)
#
# On one H100 (2026-11-24) engine took about 6 minutes and network's steps about 4.5; assessing
# AdEx and Izhikevich took 5.5 minutes, so within a 10-minute slot run assess once with
# MODELS="adex izhikevich" and once with MODELS="lif n2d2" (default: all four).
#
# Each step runs under its own time limit, so one slow or failing step still leaves the others'
# logs: DIR/<step>.log, with the command, its output and its exit code. PYTHON picks the
# interpreter (default python3); jaxplaus is imported from this checkout.
set -u
part=${1:?"part: engine, assess, network or loops"}
out=${2:-gpu-figures}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit} s): $*"
    local t0=$SECONDS
    { echo "\$ $*"; timeout "$limit" "$@"; echo "rc=$? after $((SECONDS - t0)) s"; } >"$out/$name.log" 2>&1
    grep -v -E '^\s*$|it/s\]|s/it\]' "$out/$name.log" | tail -n 14
}

case $part in
engine)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$out/gpu.txt"
    "$py" -c "import jax; print(jax.__version__, jax.devices())" >>"$out/gpu.txt" 2>&1
    cat "$out/gpu.txt"
    step reference 90 "$py" -m jaxplaus.cli reference izhikevich2004
    step bare 80 "$py" benchmarks/throughput.py --bare --populations 100000 1000000 10000000 --unroll 1 32
    step throughput 180 "$py" benchmarks/throughput.py --models izhikevich --populations 1048576 \
        --chunks 16384 65536 131072 --no-torch --repeats 3 --max-seconds 10
    # torch shares the GPU with JAX in this process: JAX takes half of it, not its default 75%
    step torch_ratio 180 env XLA_PYTHON_CLIENT_MEM_FRACTION=0.5 "$py" benchmarks/throughput.py \
        --models izhikevich --populations 64 1024 65536 --repeats 2 --max-seconds 10
    ;;
assess)
    # the runs (reports, figures) go elsewhere: DIR keeps only the logs
    step assess 570 "$py" benchmarks/assess_models.py --models ${MODELS:-adex izhikevich lif n2d2} \
        --out "${RUNS:-/tmp/jaxplaus-gpu-runs}"
    ;;
network)
    step sweep 200 "$py" benchmarks/sweep_throughput.py --variants 1000 --budget 768
    step plasticity 150 "$py" benchmarks/plasticity_throughput.py --network full --seconds 2 --batch 110 --repeats 1
    step generation 200 "$py" benchmarks/plasticity_throughput.py --network full --seconds 40 --batch 110 \
        --repeats 1 --no-single
    step brian2 200 "$py" benchmarks/brian2_network.py --network full --seconds 1 --standalone
    ;;
loops)
    # the default layout, then without the barrier, then a block's steps unrolled, then 2 blocks too
    k=0
    for shape in "" "--no-loop-barrier" "--no-loop-barrier --loop-unroll-steps 8" \
        "--no-loop-barrier --loop-unroll-steps 8 --loop-unroll-blocks 2"; do
        k=$((k + 1))
        # shellcheck disable=SC2086  # $shape is a list of flags
        step "loop_$k" 140 "$py" benchmarks/throughput.py --models izhikevich --populations 64 65536 \
            --no-torch --repeats 3 --max-seconds 10 $shape
    done
    ;;
*)
    echo "unknown part: $part (engine, assess, network or loops)" >&2
    exit 2
    ;;
esac
