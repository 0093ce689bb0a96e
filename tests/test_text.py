"""The GPT's text: the default corpus is real prose on this machine, the vocabulary and batch order
are what both frameworks share, a bad --text is a one-line usage error, and -k gpt / -k tiny /
--gpt-configs select what they say."""
from __future__ import annotations

import re

import numpy as np
import pytest

from models import text
from tests.test_options import collected, fields, pytest_run

TINY = text.CONFIGS["tiny"]


def test_default_corpus_is_over_a_megabyte_of_real_prose():
    corpus = text.load_corpus()
    assert len(corpus.encode()) > 1_000_000
    assert corpus.startswith("The First Book of Moses, called Genesis\nIn the beginning God created the heaven")
    assert "And God said, Let there be light: and there was light." in corpus
    assert not any(c.isdigit() for c in corpus[:100_000]), "verse numbers are removed"


def test_default_vocabulary_fits_the_configs():
    corpus = text.corpus(None, TINY.vocab_size)
    assert corpus.vocab.unknown is None and len(corpus.vocab.chars) <= TINY.vocab_size
    assert list(corpus.vocab.chars) == sorted(corpus.vocab.chars)
    assert corpus.ids.dtype == np.int32 and corpus.ids.max() < len(corpus.vocab.chars)
    assert corpus.vocab.decode(corpus.ids[:40]) == text.load_corpus()[:40]
    assert 2.5 < text.unigram_entropy_nats(corpus.ids) < np.log(TINY.vocab_size)


def test_vocabulary_round_trip_and_cap():
    vocab = text.char_vocab("hello, world", 65)
    assert vocab.chars == " ,dehlorw" and vocab.decode(vocab.encode("hello, world")) == "hello, world"
    capped = text.char_vocab("aaaabbbcc d", 3)  # a, b keep ids; c, d and " " share the last one
    assert capped.chars == "ab" and capped.unknown == 2
    assert capped.encode("abcd").tolist() == [0, 1, 2, 2]


def test_unigram_entropy():
    assert text.unigram_entropy_nats(np.array([0, 1, 0, 1])) == pytest.approx(np.log(2))
    assert text.unigram_entropy_nats(np.zeros(5, np.int32)) == 0.0


def test_batches_are_seeded_windows_and_targets_shift_by_one():
    ids = np.arange(1000, dtype=np.int32)
    x, y = text.batches(ids, steps=3, config=TINY, seed=1)
    assert x.shape == y.shape == (3, TINY.batch_size, TINY.block_size) and x.dtype == np.int32
    np.testing.assert_array_equal(y, x + 1)  # the next character of every position
    np.testing.assert_array_equal(np.diff(x, axis=-1), 1)  # contiguous windows of the text
    again, _ = text.batches(ids, steps=3, config=TINY, seed=1)
    other, _ = text.batches(ids, steps=3, config=TINY, seed=2)
    np.testing.assert_array_equal(x, again)
    assert not np.array_equal(x, other)
    first, _ = text.batches(ids, steps=1, config=TINY, seed=1)
    np.testing.assert_array_equal(first[0], x[0])  # a shorter run sees the same first batches


def test_text_file_is_loaded(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("To be, or not to be, that is the question. " * 40, encoding="utf-8")
    corpus = text.corpus(str(path), 65)
    assert corpus.name == str(path) and corpus.vocab.decode(corpus.ids[:9]) == "To be, or"


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"\xff\xfe\x00binary", "not UTF-8 text (byte 0)"),
    (b"too short", "9 characters; at least 1024 are needed"),
])
def test_bad_text_is_one_line_error(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(text.CorpusError, match=re.escape(message)) as error:
        text.load_corpus(str(path))
    assert "\n" not in str(error.value)


def test_bad_text_option_is_one_line_usage_error(tmp_path):
    result = pytest_run("--collect-only", "-q", "--text", str(tmp_path / "missing.txt"))
    assert result.returncode == 4  # pytest's usage error
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [f"ERROR: --text: {tmp_path / 'missing.txt'}: no such file"]


@pytest.mark.parametrize("args, message", [
    (["--gpt-configs", "huge"], "--gpt-configs: expected comma-separated names from tiny, seed, got 'huge'"),
    (["--gpt-steps", "5"], "--gpt-steps: expected one integer from 10 to 100000, got '5'"),
])
def test_bad_gpt_option_is_one_line_usage_error(args, message):
    result = pytest_run("--collect-only", "-q", *args)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 4 and errors == [f"ERROR: {message}"]


def test_k_gpt_and_tiny_select_what_they_say():
    everything = collected("--gpt-configs", "tiny,seed")
    gpt = collected("--gpt-configs", "tiny,seed", "-k", "gpt")
    assert gpt and sorted(gpt) == sorted(i for i in everything if "test_gpt" in i)
    tiny = collected("-k", "tiny")
    assert tiny and all("tiny" in fields(i) for i in tiny)
    # train step, forward: 4 modes x 2 phases; 2 training runs; the train step's 2 warm starts (jit, compile)
    assert sum("test_gpt_" in i for i in tiny) == 4 * 2 * 2 + 2 + 2
    seed = collected("--gpt-configs", "seed", "-k", "gpt")
    assert seed and all(fields(i) >= {"seed"} for i in seed)  # default --gpt-configs is tiny only
    assert not any("seed" in fields(i) for i in collected("-k", "gpt"))
