"""Writes the variable-length data of the pool measurements in the README (Memory bullet).

40 records of random lower-case text: a query of 80-300 characters and four responses of 20-100, scores 4..1
(one token per character with the benchmark's character-level tokenizer). Python's `random` with seed 1, so the
file is the same on every run:

    python3 bench/varlen_data.py /tmp/var/data.jsonl
    rrhf train --model /tmp/rrhf-bench/smollm-135m/model --data /tmp/var/data.jsonl --max-steps 20 \
        --save-steps 0 --logging-steps 1 --backend native --threads 2 --out /tmp/varo
"""

import json
import random
import sys

random.seed(1)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def text(lo: int, hi: int) -> str:
    return "".join(random.choice(LETTERS) for _ in range(random.randint(lo, hi)))


with open(sys.argv[1], "w") as f:
    for _ in range(40):
        query = text(80, 300)
        responses = [text(20, 100) for _ in range(4)]
        f.write(json.dumps({"query": query, "responses": responses, "scores": [4, 3, 2, 1]}) + "\n")
