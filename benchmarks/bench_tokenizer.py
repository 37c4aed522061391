"""Batch encoding throughput: albert_explained.AlbertTokenizer against transformers' slow AlbertTokenizer.

Both tokenizers load the same spiece.model (by default one trained here on made-up text, V = 4000) and encode the
same texts in this one process. The script first checks that they give identical outputs, then times each over
several rounds and keeps the best round (the least disturbed by other work on the machine). Ours runs twice: with
SentencePiece's default threading (all cores) and with one thread, to show the speed-up that threads do not explain.

    python benchmarks/bench_tokenizer.py                      # trains a small tokenizer on generated text
    python benchmarks/bench_tokenizer.py --tokenizer DIR      # e.g. a downloaded albert-base-v2 folder
    python benchmarks/bench_tokenizer.py --texts corpus.txt   # one text per line

Where the speed comes from: the reference tokenizes text by text in Python (special-token splitting, SentencePiece
to piece strings, the number-comma rule piece by piece, then piece strings to ids one at a time); ours hands every text
of the batch to SentencePiece in a single call that returns ids directly, and looks at piece strings only for the
rare stretches that need ALBERT's extra rules.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from albert_explained.tokenizer import AlbertTokenizer, train_tokenizer

def lexicon(size: int, seed: int) -> list[str]:
    """Pronounceable made-up words of one to four syllables, so that the vocabulary has real subword structure."""
    rng = random.Random(seed)
    onsets = "b c d f g h k l m n p r s t v w z br ch cl st tr th sh".split()
    vowels = "a e i o u ea ou".split()
    codas = ["", "", "n", "r", "s", "t", "l", "nd", "st"]
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                          for _ in range(rng.choice([1, 1, 2, 2, 2, 3, 3, 4]))))
    return sorted(words)


def generated_texts(n: int, seed: int) -> list[str]:
    """Sentences whose words follow Zipf's law over a 20,000-word lexicon, with capitals, accents, numbers with
    commas, quotes and the odd [MASK]: the mix an encyclopedia sentence has."""
    rng = random.Random(seed)
    words = lexicon(20_000, seed=0)
    weights = [1 / rank for rank in range(1, len(words) + 1)]
    extras = ["café", "Zürich", "São", "1,000", "2,500,000", "(", ")", "``quoted''", "[MASK]", "1999,", "—", "'s"]
    texts = []
    for _ in range(n):
        sentence = rng.choices(words, weights, k=rng.randint(8, 40))
        sentence = [rng.choice(extras) if rng.random() < 0.05 else w for w in sentence]
        sentence = [w.capitalize() if rng.random() < 0.1 else w for w in sentence]
        texts.append(" ".join(sentence).capitalize() + ".")
    return texts


def best_time(fn, rounds: int, label: str) -> float:
    fn()  # warm up
    times = []
    for _ in tqdm(range(rounds), desc=label, leave=False):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", help="a folder with spiece.model (default: train one on generated text)")
    parser.add_argument("--texts", help="a UTF-8 file, one text per line (default: generated sentences)")
    parser.add_argument("--n", type=int, default=2000, help="number of generated texts")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import transformers

    transformers.logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.tokenizer
        if folder is None:
            folder = Path(tmp) / "tokenizer"
            train_tokenizer(generated_texts(5000, seed=0), 4000, folder, num_threads=1)
        texts = (Path(args.texts).read_text(encoding="utf-8").splitlines() if args.texts
                 else generated_texts(args.n, seed=1))
        ours = AlbertTokenizer.from_pretrained(folder)
        ours_1 = AlbertTokenizer.from_pretrained(folder, sp_model_kwargs={"num_threads": 1})
        ref = transformers.AlbertTokenizer.from_pretrained(str(folder))

        settings = {
            "lists": {},
            "padded tensors": dict(padding=True, truncation=True, max_length=128, return_tensors="pt"),
        }
        print(f"{len(texts)} texts, {sum(map(len, texts)) / len(texts):.0f} characters on average, "
              f"vocabulary {ours.vocab_size}, transformers {transformers.__version__}")
        for name, kwargs in settings.items():
            expected = ref(texts, **kwargs)
            actual = ours(texts, **kwargs)
            same = all((actual[k] == expected[k]).all() if kwargs else actual[k] == expected[k] for k in expected)
            assert same and list(actual) == list(expected.keys()), f"outputs differ ({name})"
            t_ref = best_time(lambda kwargs=kwargs: ref(texts, **kwargs), args.rounds, f"reference, {name}")
            t_ours = best_time(lambda kwargs=kwargs: ours(texts, **kwargs), args.rounds, f"ours, {name}")
            t_ours_1 = best_time(lambda kwargs=kwargs: ours_1(texts, **kwargs), args.rounds, f"ours 1 thread, {name}")
            print(f"\n{name} (identical outputs):")
            print(f"  reference slow AlbertTokenizer  {len(texts) / t_ref:12,.0f} texts/s")
            print(f"  ours (default threads)          {len(texts) / t_ours:12,.0f} texts/s   "
                  f"ratio ours/reference = {t_ref / t_ours:.1f}x")
            print(f"  ours (num_threads=1)            {len(texts) / t_ours_1:12,.0f} texts/s   "
                  f"ratio ours/reference = {t_ref / t_ours_1:.1f}x")


if __name__ == "__main__":
    main()
