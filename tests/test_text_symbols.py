"""The phone tables are a contract with the official checkpoints: size, order and key ids must not move."""

import hashlib

import pytest

from gpt_sovits.errors import TextError
from gpt_sovits.text import symbols


def _md5(table) -> str:
    return hashlib.md5("\n".join(table).encode("utf-8")).hexdigest()


def test_sizes_and_v1_is_a_prefix_of_v2():
    v1, v2 = symbols.symbols("v1"), symbols.symbols("v2")
    assert len(v1) == 322 and len(v2) == 732
    assert v2[:322] == v1
    assert len(set(v2)) == 732


def test_tables_are_byte_identical_to_the_official_ones():
    # MD5 of "\n".join(symbols) from the official symbols.py / symbols2.py (research doc, section 1.2).
    assert _md5(symbols.symbols("v1")) == "e995302132a70926af23848cca734c0c"
    assert _md5(symbols.symbols("v2")) == "2496328db31f8ce15e5f98756508862e"


@pytest.mark.parametrize(
    "symbol, index",
    [("!", 0), (",", 1), ("-", 2), (".", 3), ("?", 4), ("AA", 5), ("EE", 33), ("OO", 66), ("SP", 77), ("SP2", 78),
     ("SP3", 79), ("UNK", 86), ("_", 95), ("a1", 97), ("zh", 320), ("…", 321)],
)  # fmt: skip
def test_key_ids_shared_by_v1_and_v2(symbol, index):
    assert symbols.symbol_to_id("v1")[symbol] == index
    assert symbols.symbol_to_id("v2")[symbol] == index


@pytest.mark.parametrize("symbol, index", [("[", 322), ("]", 323), ("ㄱ", 324), ("停", 351), ("空", 352), ("Ya", 353), ("Yz", 731)])
def test_key_ids_added_in_v2(symbol, index):
    assert symbols.symbol_to_id("v2")[symbol] == index
    assert symbol not in symbols.symbol_to_id("v1")


def test_ids_and_unknown_phones():
    assert symbols.phones_to_ids(["n", "i2", "SP", ","], "v1") == (227, 167, 77, 1)
    assert symbols.known_or_unknown(["ㄱ", "a1"], "v1") == ["UNK", "a1"]
    assert symbols.known_or_unknown(["ㄱ", "a1"], "v2") == ["ㄱ", "a1"]


def test_unknown_version_is_a_text_error():
    with pytest.raises(TextError, match="v1, v2"):
        symbols.symbols("v3")
