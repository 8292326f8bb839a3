"""``assistant grade``: grade any system's answers for grounding against a corpus.

Import another tool's answer file (:mod:`.formats`), align every quote, citation and
retrieved context with the corpus to the character (:mod:`.alignment`), judge each
sentence as ALCE does and check the expected behaviour (:mod:`.judgement`, with a
pluggable support checker from :mod:`.checkers`), and write the reports and exports
(:mod:`.reports`). :mod:`.asserting` offers the same as ``assert_grounded`` in tests.
"""

from .alignment import Aligner, Alignment, Corpus
from .asserting import assert_grounded
from .checkers import Checker, LabelledPair, LexicalChecker, LLMJudge, agreement, load_pairs
from .formats import FORMAT_NAMES, READERS, detect, read_answers, read_records
from .grader import grade
from .items import Item, Source
from .judgement import ItemGrade, Judge, SentenceGrade

__all__ = [
    "FORMAT_NAMES",
    "READERS",
    "Aligner",
    "Alignment",
    "Checker",
    "Corpus",
    "Item",
    "ItemGrade",
    "Judge",
    "LLMJudge",
    "LabelledPair",
    "LexicalChecker",
    "SentenceGrade",
    "Source",
    "agreement",
    "assert_grounded",
    "detect",
    "grade",
    "load_pairs",
    "read_answers",
    "read_records",
]
