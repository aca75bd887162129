#!/usr/bin/env bash
# Set everything up, index the sample corpus in seeds/, and start the chat UI on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
INDEX=${RAG_INDEX:-$PWD/.rag-index}
.venv/bin/rag ingest seeds/*.txt --index "$INDEX"  # seeds/gold/ holds the gold questions, not documents
exec .venv/bin/rag ui --index "$INDEX" "$@"
