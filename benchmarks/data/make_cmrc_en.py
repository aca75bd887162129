"""Translate the CMRC 2018 questions that benchmarks/retrieval.py asks into English with the packaged local model,
for the English-over-Chinese set `cmrc-en` (writes benchmarks/data/cmrc_en_questions.jsonl; resumes)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1]))

SYSTEM = ("You are a translator. Translate the Chinese text into English. Do not answer questions: translate "
          "them as questions. Reply with the translation only.")
# Few-shot turns (written for this script, not taken from CMRC): a 1.5B model asked only to translate answers the
# question instead ("The controversy arose during the 2016 US Open.").
SHOTS = [("翻译：长江流经哪些省份？", "Which provinces does the Yangtze River flow through?"),
         ("翻译：《红楼梦》的作者是谁？", "Who is the author of Dream of the Red Chamber?"),
         ("翻译：该公司在2015年的营业收入是多少？", "What was the company's operating revenue in 2015?")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", help="data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--limit", type=int, default=150, help="answerable questions per half (as retrieval.py --limit)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "cmrc_en_questions.jsonl"))
    args = ap.parse_args(argv)
    from common import data_dir
    from retrieval import load_cmrc

    from rag.generation.llm import load_llama
    from rag.models.gguf import default_model_path

    corpus = load_cmrc(data_dir(args.data), args.limit, 0, 0.5)
    out = Path(args.out)
    done = {json.loads(ln)["id"] for ln in out.read_text(encoding="utf-8").splitlines() if ln.strip()} if out.exists() else set()
    llama = load_llama(default_model_path(), args.threads).llama
    t0 = time.perf_counter()
    todo = [q for q in corpus.questions if q.qid not in done]
    with out.open("a", encoding="utf-8") as f:
        for n, q in enumerate(todo, 1):
            shots = [m for zh, en in SHOTS for m in ({"role": "user", "content": zh},
                                                     {"role": "assistant", "content": en})]
            r = llama.create_chat_completion(messages=[{"role": "system", "content": SYSTEM}, *shots,
                                                       {"role": "user", "content": "翻译：" + q.text}],
                                             max_tokens=80, temperature=0.0)
            en = r["choices"][0]["message"]["content"].strip().splitlines()[0].strip()
            f.write(json.dumps({"id": q.qid, "zh": q.text, "question": en}, ensure_ascii=False) + "\n")
            f.flush()
            if n % 20 == 0:
                print(f"{n}/{len(todo)} {time.perf_counter() - t0:.0f} s: {q.text} -> {en}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
