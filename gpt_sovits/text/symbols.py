"""The phone symbol tables: a phone's id is its position in the table of the model's symbol version.

The tables are a compatibility contract with the official checkpoints: the text embedding of a model has one row
per symbol, in exactly this order, so a single shifted entry would make every phone sound like another.

- v1: 322 symbols. Chinese initials and toned finals, Japanese phones, punctuation and silences, ARPAbet.
- v2: the same 322 first (so every v1 id is also a v2 id), then 410 appended: Japanese pitch marks `[` `]`,
  Korean jamo (with the `停` / `空` pause marks) and Cantonese phones (all starting with "Y").

The v2 table is stored in `data/symbols_v2.txt`, one symbol per line in id order; v1 is its first 322 lines.
"""

from functools import lru_cache
from pathlib import Path

from gpt_sovits.errors import TextError
from gpt_sovits.messages import Message, joined

SYMBOL_VERSIONS = ("v1", "v2")
V1_SYMBOL_COUNT = 322

# Punctuation marks that are phones themselves (Chinese and English g2p both emit them as they are).
PUNCTUATION = ("!", "?", "…", ",", ".", "-")
UNKNOWN = "UNK"  # what a phone outside the table becomes
# Phones that make no speech sound: punctuation, the silence tokens, the unknown phone and padding.
NOT_SPEECH = frozenset(PUNCTUATION) | {"SP", "SP2", "SP3", UNKNOWN, "_"}

_TABLE_PATH = Path(__file__).parent / "data" / "symbols_v2.txt"


@lru_cache(maxsize=None)
def symbols(symbol_version: str) -> tuple[str, ...]:
    """The symbol table of `symbol_version` ("v1" or "v2"), in id order."""
    check_symbol_version(symbol_version)
    all_symbols = tuple(_TABLE_PATH.read_text(encoding="utf-8").splitlines())
    return all_symbols[:V1_SYMBOL_COUNT] if symbol_version == "v1" else all_symbols


@lru_cache(maxsize=None)
def symbol_to_id(symbol_version: str) -> dict[str, int]:
    """Phone symbol -> id in the table of `symbol_version`."""
    return {symbol: index for index, symbol in enumerate(symbols(symbol_version))}


def phones_to_ids(phones, symbol_version: str) -> tuple[int, ...]:
    """Ids of `phones`; every phone must already be in the table (see `known_or_unknown`)."""
    table = symbol_to_id(symbol_version)
    return tuple(table[phone] for phone in phones)


def known_or_unknown(phones, symbol_version: str) -> list[str]:
    """Replace each phone that is not in the table by "UNK", as the official cleaner does."""
    table = symbol_to_id(symbol_version)
    return [phone if phone in table else UNKNOWN for phone in phones]


def check_symbol_version(symbol_version: str) -> None:
    if symbol_version not in SYMBOL_VERSIONS:
        raise TextError(Message(
            "Unknown symbol version {version!r}; choose one of {choices}.",
            version=symbol_version, choices=joined(SYMBOL_VERSIONS),
        ))
