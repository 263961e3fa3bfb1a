#!/usr/bin/env bash
# Usage: tools/dist_launch.sh TOOL NUM_PROCS [TOOL arguments]: torchrun for tools/TOOL with
# --launcher pytorch (dist_train.sh and dist_test.sh call it).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT.
TOOL=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

# exec: SIGTERM/SIGINT reach torchrun, which stops its workers.
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/$TOOL" \
    "${@:3}"
