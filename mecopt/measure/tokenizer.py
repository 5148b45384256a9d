"""A word-level tokenizer over a fixed vocabulary, for small models trained from scratch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mecopt.measure._deps import import_transformers

__all__ = ["SPECIAL_TOKENS", "word_tokenizer"]

#: Special tokens, with ids 0..3 in this order.
SPECIAL_TOKENS = {"pad": "<pad>", "unk": "<unk>", "bos": "<bos>", "eos": "<eos>"}


def word_tokenizer(words: Iterable[str]) -> Any:
    """Build a Hugging Face fast tokenizer with one token per word of ``words``.

    Text is lower-cased and split on white space and punctuation; unknown words map to
    ``<unk>``. The tokenizer saves and loads with ``save_pretrained``/``AutoTokenizer``.

    Parameters
    ----------
    words
        The vocabulary (e.g. :func:`mecopt.datasets.babi_vocabulary`); duplicates are ignored.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        The tokenizer; special tokens ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>`` get ids 0-3.

    Raises
    ------
    MissingDependencyError
        If transformers (which brings the tokenizers package) is not installed.
    """
    transformers = import_transformers()
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    vocab: dict[str, int] = {}
    for tok in list(SPECIAL_TOKENS.values()) + [w.lower() for w in words]:
        vocab.setdefault(tok, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL_TOKENS["unk"]))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tk.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token=SPECIAL_TOKENS["pad"],
        unk_token=SPECIAL_TOKENS["unk"],
        bos_token=SPECIAL_TOKENS["bos"],
        eos_token=SPECIAL_TOKENS["eos"],
    )
