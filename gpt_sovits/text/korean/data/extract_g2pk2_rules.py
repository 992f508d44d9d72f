"""Rebuild g2pk2_rules.tsv from the g2pk2 0.0.3 wheel (a maintenance tool; nothing imports it).

    python gpt_sovits/text/korean/data/extract_g2pk2_rules.py /path/to/unpacked/g2pk2 > g2pk2_rules.tsv

g2pk2 keeps its rules in four places: idioms.txt (respellings), special.py (one function per rule of the Standard
Pronunciation), table.csv (coda x onset), regular.py (linking). This script runs the special and regular functions
with a recording stand-in for `re.sub` / `str.replace`, parses the two text files the way g2pk2 does, and prints
every rewrite in the order g2pk2 applies it, unchanged. Non-descriptive mode (the official front end's): rules that
only act when `descriptive=True` record nothing.
"""

import importlib.util
import sys
import types
from collections import defaultdict
from pathlib import Path

# The order of g2pk2.G2p.__call__ (step 6, then the annotation strip, step 7 and step 8).
SPECIAL_RULES = ["jyeo", "ye", "consonant_ui", "josa_ui", "vowel_ui", "jamo", "rieulgiyeok", "rieulbieub",
                 "verb_nieun", "balb", "palatalize", "modifying_rieul"]  # fmt: skip
LINK_RULES = ["link1", "link2", "link3", "link4"]

HEADER = """\
# g2pk2 0.0.3's rewrite rules (Apache-2.0, see SOURCES.md), in the order g2pk2 applies them; made by
# extract_g2pk2_rules.py from the wheel's idioms.txt, special.py, table.csv and regular.py, content unchanged.
# stage<TAB>pattern<TAB>replacement<TAB>where it comes from
#   spelling: re.sub on the text as written (syllables), before morphological analysis
#   jamo:     re.sub on the text decomposed into conjoining jamo (U+1100 block: onsets 1100-1112, vowels
#             1161-1175, codas 11A8-11C2) with the analysis marks /P /E /B /J still in it.
#             A syllable-looking group in a pattern is jamo too: ([그]) is the class [그], (바) is 바.
# Numbers in the last column are articles of the Standard Pronunciation (표준 발음법) as g2pk2 cites them.
"""


class _Recorder(str):
    """A string whose replace() and whose module's re.sub() record the rewrite instead of doing it."""

    rewrites: list

    def replace(self, old, new, count=-1):
        self.rewrites.append((old, new))
        return self


def _rewrites_of(module, function_names, source):
    rows = []
    for name in function_names:
        recorder = _Recorder("")
        recorder.rewrites = []
        module.re = types.SimpleNamespace(sub=lambda pattern, repl, text: text.replace(pattern, repl))
        getattr(module, name)(recorder, descriptive=False, verbose=False)
        rows += [(pattern, repl, f"{source}.{name}") for pattern, repl in recorder.rewrites]
    return rows


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _idioms(path: Path):
    rows = []
    for line in path.read_text(encoding="utf8").splitlines():
        line = line.split("#")[0].strip()
        if "===" in line:
            pattern, repl = line.split("===")
            rows.append((pattern, repl, "idioms.txt"))
    return rows


def _table(path: Path):
    lines = path.read_text(encoding="utf8").splitlines()
    onsets = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        assert len(cells) >= len(onsets), line  # g2pk2 indexes the cells by onset; extra cells are ignored
        coda = cells[0]
        for onset, cell in list(zip(onsets, cells))[1:]:
            if cell:
                repl, _, rule_ids = cell.partition("(")
                rows.append((f"{coda}{onset}", repl, f"table.csv ({rule_ids[:-1]})" if rule_ids else "table.csv"))
    return rows


def main(package_dir: str) -> None:
    package = Path(package_dir)
    stub_utils = types.ModuleType("g2pk2.utils")
    stub_utils.gloss = lambda *args: None
    stub_utils.get_rule_id2text = lambda: defaultdict(str)
    sys.modules.update({"g2pk2": types.ModuleType("g2pk2"), "g2pk2.utils": stub_utils})
    special = _load(package / "special.py", "g2pk2.special")
    regular = _load(package / "regular.py", "g2pk2.regular")

    rows = [("spelling", *row) for row in _idioms(package / "idioms.txt")]
    rows += [("jamo", *row) for row in _rewrites_of(special, SPECIAL_RULES, "special")]
    rows += [("jamo", "/[PJEB]", "", "g2pk2.G2p: annotations removed")]
    rows += [("jamo", *row) for row in _table(package / "table.csv")]
    rows += [("jamo", *row) for row in _rewrites_of(regular, LINK_RULES, "regular")]
    print(HEADER, end="")
    for row in rows:
        assert not any("\t" in field or "\n" in field for field in row)
        print("\t".join(row))


if __name__ == "__main__":
    main(sys.argv[1])
