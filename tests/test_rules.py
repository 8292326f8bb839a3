"""The answerer's rules, table by table, with questions about texts of several genres.

Intent and expected-answer parsing read the whole question, not its first word; a
collection's profile is data, validated, and names the reading in every refusal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import CorpusError
from assistant.examples import heading_examples, name_examples
from assistant.followups import rewrite
from assistant.lexical import Variants, expand_aliases, names
from assistant.models import Message, Sentence
from assistant.profile import Profile, load_profile
from assistant.questions import analyse, gives_expected, stance_of
from assistant.signals import names_share, near_previous, read_question


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What are you allowed to bring into the reading room?", "question"),
        ("What are you?", "request"),
        ("Who are you?", "request"),
        ("Write a poem about the struggle for existence.", "request"),
        ("Translate the first paragraph into French.", "request"),
        ("Tell me a joke about style guides.", "request"),
        ("How does Python's style guide treat tabs?", "question"),  # a language name is not a request
        ("Can you tell me what the Senate may do?", "question"),
        ("Can you recommend a good restaurant near the harbour?", "request"),
        ("Plan a three-day trip along the river.", "request"),
        ("Which laptop should I buy for this course?", "request"),
        ("What time is it in Paris right now?", "request"),
        ("What does the author recommend for beginners?", "question"),
        ("Which plan does the report suggest?", "question"),
        ("hi", "greeting"),
        ("Thanks!", "greeting"),
        ("Summarize the speech.", "summary"),
    ],
)
def test_intent(question: str, intent: str) -> None:
    assert analyse(question).intent == intent


@pytest.mark.parametrize(
    ("question", "expects"),
    [
        ("When did the treaty enter into force?", "date"),
        ("In what year was the census first taken?", "date"),
        ("When the visitor removed his mask, what did the detective do?", None),  # an event, not a time
        ("When the oil ran short, how did people react?", None),
        ("How many steps lead up to the room?", "number"),
        ("How much money was handed over?", "number"),
        ("Who wrote the anonymous note?", "name"),
        ("What was the name of the ship?", "name"),
        ("Who should lead such missions?", None),  # asks for a kind of actor, not a name
        ("Why do seedlings die in great numbers?", None),
        ("Does the author think we see how much destruction goes on?", None),  # yes or no
    ],
)
def test_expected_answer(question: str, expects: str | None) -> None:
    assert analyse(question).expects == expects


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("What did Ada Lovelace write?", {"ada", "lovelace"}),
        ("What am I supposed to do when I'm in doubt or I’ve lost the thread?", set()),  # the pronoun
        ("Why did they leave? (According to Ada, who was left?)", {"ada"}),  # a parenthesis opens a sentence
    ],
)
def test_names(text: str, found: set[str]) -> None:
    assert names(text) == found


def test_a_date_the_question_already_gives_is_not_an_answer() -> None:
    info = analyse("In what year after the winter of 1854 did the birds return?")
    assert not gives_expected(info, "The winter of 1854 destroyed four-fifths of the birds.")
    assert gives_expected(info, "After the winter of 1854 the birds returned in 1856.")


@pytest.mark.parametrize(
    ("question", "reasons"),
    [
        ("Why does the speaker say confidence is falling?", True),
        ("How does the author judge the withdrawal?", True),
        ("What does the author think of long lines?", True),
        ("What is the maximum line length?", False),
    ],
)
def test_questions_that_ask_for_reasons(question: str, reasons: bool) -> None:
    assert analyse(question).asks_reasons is reasons


def test_stance_from_a_profile_lexicon_or_a_general_one() -> None:
    lexicon = Profile.model_validate({"stance": {"positive": ["exemplary"], "negative": ["tragedy"]}}).stance
    assert stance_of("The policy has been exemplary.", lexicon) == 1
    assert stance_of("The withdrawal was a tragedy.", lexicon) == -1
    assert stance_of("It was a terrible, cruel failure.") == -1  # VADER's general lexicon
    assert stance_of("This is a wonderful and admirable achievement.") == 1
    assert stance_of("The Senate shall choose their Speaker.") == 0


def test_aliases_name_what_they_stand_for() -> None:
    aliases = {"kremlin": "russia", "us": "united states"}
    assert expand_aliases("What does the Kremlin want?", aliases) == "What does the Kremlin (Russia) want?"
    assert expand_aliases("Tell us about it.", aliases) == "Tell us about it."  # the pronoun stays
    assert expand_aliases("Why did the US act?", aliases) == "Why did the US (United States) act?"


def test_profile_is_optional_and_validated(tmp_path: Path) -> None:
    assert load_profile(tmp_path) == Profile()
    (tmp_path / "profile.yaml").write_text(
        "called: the speech\naliases: {Potus: President}\n", encoding="utf-8"
    )
    profile = load_profile(tmp_path)
    assert profile.reading(1) == "the speech" and profile.aliases == {"potus": "president"}
    (tmp_path / "profile.yaml").write_text("colour: blue\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"profile.yaml: colour: Extra inputs"):
        load_profile(tmp_path)
    (tmp_path / "profile.yaml").write_text("examples: [unclosed\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="cannot read the profile"):
        load_profile(tmp_path)


def test_without_a_profile_the_reading_is_the_text_or_the_readings() -> None:
    assert Profile().reading(1) == "the text"
    assert Profile().reading(3) == "the readings"


def test_examples_from_headings() -> None:
    examples = heading_examples(
        ["## Tabs or Spaces?", "# Code Lay-out", "Table 3 | values", "Code Lay-out"], "the text"
    )
    assert examples == [
        "What does the text say about “Tabs or Spaces?”?",
        "What does the text say about “Code Lay-out”?",
    ]
    assert heading_examples(["# Code Lay-out"], "the readings") == [
        "What do the readings say about “Code Lay-out”?"
    ]
    # Numbering is no topic; a heading in capitals reads as a title.
    assert heading_examples(
        ["## I. A SCANDAL IN BOHEMIA", "### I.", "2.1 Scope", "I Have a Dream"], "the text"
    ) == [
        "What does the text say about “A Scandal in Bohemia”?",
        "What does the text say about “Scope”?",
        "What does the text say about “I Have a Dream”?",
    ]
    # Nor is a part of the document: a play's acts and scenes, a constitution's articles.
    parts = ["## FIRST ACT", "### SCENE", "## Article. I.", "### Section. 2.", "Act II, Scene 1", "Preface"]
    assert heading_examples(parts, "the text") == []
    labelled = [
        "CHAPTER III. STRUGGLE FOR EXISTENCE.",
        "ACT I. SCENE II. A room in the castle",
        "Chapter 5.1 Sorting",  # a numbered section, not "Chapter 5." and "1 Sorting"
        "Act of Union",
        "Civil",  # a word, not a Roman numeral
    ]
    assert [e.split("about ")[1] for e in heading_examples(labelled, "the text", titles=())] == [
        "“Struggle for Existence”?",
        "“A room in the castle”?",
        "“Chapter 5.1 Sorting”?",
        "“Act of Union”?",
    ]
    # Letters number headings when several carry one; a single one is an initial.
    lettered = ["A. Boundaries Between Practice and Research", "B. Basic Ethical Principles"]
    assert [e.split("about ")[1] for e in heading_examples(lettered, "the text")] == [
        "“Boundaries Between Practice and Research”?",
        "“Basic Ethical Principles”?",
    ]
    assert heading_examples(["J. Edgar Hoover", "C. S. Lewis"], "the text") == [
        "What does the text say about “J. Edgar Hoover”?",
        "What does the text say about “C. S. Lewis”?",
    ]
    assert heading_examples(["WORLD WAR II AND THE HOME FRONT"], "the text") == [
        "What does the text say about “World War II and the Home Front”?"
    ]


def test_examples_from_the_names_a_text_uses_most() -> None:
    """A play has no headings to ask about; its people and places are the topics. A speaker's
    label opens its line, so it is not counted there, and a name used once is no topic."""
    play = (
        "## FIRST ACT\n\nLady Harbury.  I hear Aunt Augusta is coming from Tunbridge Wells.\n\n"
        "Aunt Augusta.  I am. Lady Harbury should know that Aunt Augusta never misses a train.\n\n"
        "Lady Harbury.  You came from Tunbridge Wells once before, Aunt Augusta. Ask Miss Fairfax.\n"
    )
    assert name_examples([play], "the text") == [
        "What does the text say about “Aunt Augusta”?",
        "What does the text say about “Tunbridge Wells”?",
    ]
    assert name_examples([play], "the play", titles={"Tunbridge Wells and After"}) == [
        "What does the play say about “Aunt Augusta”?"
    ]
    assert name_examples(["They fought in World War II. Men back from World War II voted."], "the text") == [
        "What does the text say about “World War II”?"
    ]
    # A title makes a name of one word; after a label, a dash or a bullet, as at a sentence's start,
    # a name starts at the second capitalised word ("Dear Aunt Augusta", not "Open Settings").
    lines = (
        "She met Mr. Darcy at the ball. Everyone watched Mr. Darcy dance.\n"
        "ALGERNON: Dear Aunt Augusta, welcome.\nALGERNON: Dear Aunt Augusta, goodbye.\n"
        "- Open Settings first.\n- Open Settings again.\n"
        "After the Civil War I went west. After the Civil War I came back.\n"
        "See Section Two. As Section Two says, it holds.\n"
    )
    assert [e.split("about ")[1] for e in name_examples([lines], "the text")] == [
        "“Mr. Darcy”?",
        "“Aunt Augusta”?",
        "“Civil War”?",
    ]


STORY = (
    "---\ntitle: The Lighthouse\nauthor: Ada Example\n---\n\n## The storm\n\n"
    "The keeper climbed the tower at dusk. He lit the great lamp before the storm arrived. "
    "Ships passed safely all night because the light never failed.\n\n## Morning\n\n"
    "At dawn the keeper wrote in his log that three ships had passed.\n"
)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("story")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "lighthouse.md").write_text(STORY, encoding="utf-8")
    bot = Assistant(corpus_dir=folder / "corpus", index_dir=folder / "index")
    bot.ingest()
    return bot


def test_refusals_name_the_reading_as_the_text(story: Assistant) -> None:
    answers = [story.ask(q) for q in ("Write a poem about it.", "hi", "What did the Admiralty pay him?")]
    assert all(a.refused for a in answers)
    assert all("the text" in a.answer.lower() and "essay" not in a.answer.lower() for a in answers)
    assert "“Admiralty”" in answers[2].answer  # the name as asked, not lower-cased
    # ... and what the reader could ask instead, from the headings here (no profile)
    assert answers[2].answer.endswith(
        "You could ask, for example: What does the text say about “The storm”? "
        "Or: What does the text say about “Morning”?"
    )


def test_the_author_named_in_the_metadata_is_not_an_unknown_name(story: Assistant) -> None:
    answer = story.ask("When did Example's keeper light the lamp?")
    assert "“Example" not in answer.answer


def test_examples_come_from_the_headings_without_a_profile(story: Assistant) -> None:
    assert story.example_questions() == [
        "What does the text say about “The storm”?",
        "What does the text say about “Morning”?",
    ]
    assert story.warm_up_question() == "What does the text say about “The storm”?"


def test_a_documents_own_title_is_not_an_example_topic(tmp_path: Path) -> None:
    """ "# The Lighthouse" names the document; its sections are what a reader asks about."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lighthouse.md").write_text(
        STORY.split("---\n\n", 1)[1].replace("## The storm", "# The Lighthouse\n\n## The storm")
    )
    bot = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert bot.documents()[0].title == "The Lighthouse"
    assert bot.example_questions() == [
        "What does the text say about “The storm”?",
        "What does the text say about “Morning”?",
    ]


def test_examples_follow_the_names_when_a_document_changes(tmp_path: Path) -> None:
    """With no headings to ask about, the names are the topics; an edited document is read again."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    play = corpus / "play.md"
    play.write_text("Anna.  Ask Doctor Brandt. Only Doctor Brandt knows.\n", encoding="utf-8")
    bot = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert bot.example_questions() == ["What does the text say about “Doctor Brandt”?"]
    play.write_text("Anna.  Ask Nurse Olsen. Only Nurse Olsen knows.\n", encoding="utf-8")
    assert bot.example_questions() == ["What does the text say about “Nurse Olsen”?"]
    assert bot.warm_up_question() == "What does the text say about “Nurse Olsen”?"


def test_the_essay_profile_gives_its_examples(bot: Assistant) -> None:
    assert bot.profile.reading(1) == "the essay"
    assert len(bot.example_questions()) == 4
    assert bot.warm_up_question() in bot.example_questions()


# -- follow-ups --------------------------------------------------------------------------------

FOLLOW_UPS = [
    # (earlier question, follow-up, standalone question, asks for more)
    ("What does the text say about tariffs?", "Who wrote this essay?", "Who wrote this essay?", False),
    (
        "What does the speech say about oil imports?",
        "When was this published?",
        "When was this published?",
        False,
    ),
    (
        "What does the guide say about tabs?",
        "What is the title of this?",
        "What is the title of this?",
        False,
    ),
    ("What does the chapter say about seedlings?", "Who is the author?", "Who is the author?", False),
    ("What is natural selection?", "How does it work?", "How does natural selection work?", False),
    (
        "What is the term of a Senator?",
        "And what about Representatives?",
        "What is the term of Representatives?",
        False,
    ),
    ("What does the guide say about tabs?", "Why?", "What does the guide say about tabs?", True),
    ("What does the guide say about tabs?", "How long may a line be?", "How long may a line be?", False),
]


@pytest.mark.parametrize(("earlier", "question", "standalone", "more"), FOLLOW_UPS)
def test_follow_up_rewrite(earlier: str, question: str, standalone: str, more: bool) -> None:
    history = [Message("user", earlier), Message("assistant", "An answer. [1]")]
    result = rewrite(question, history)
    assert (result.question, result.wants_more) == (standalone, more)


class Vocabulary:
    """The corner of a retriever that reading a question needs: idf per stem (None: never used)."""

    def __init__(self, idf: dict[str, float]) -> None:
        self._idf = idf

    def idf(self, stem: str) -> float | None:
        return self._idf.get(stem)

    def unseen_idf(self) -> float:
        return 6.0

    def variant(self, stem: str) -> str | None:
        return Variants(self._idf).of(stem)


def test_a_name_in_every_other_line_hardly_singles_out_a_sentence() -> None:
    """A narrator's or hero's name (low idf) missing from a sentence costs it little; a rare one, a lot."""
    source = Vocabulary({"holm": 1.5, "pragu": 6.0, "citi": 4.0})
    question = read_question(analyse("From which city did Holmes come to Prague?"), source, {})  # type: ignore[arg-type]
    without_hero = names_share(question, {"pragu", "citi"})
    without_place = names_share(question, {"holm", "citi"})
    assert names_share(question, {"holm", "pragu"}) == 1.0
    assert without_place < 0.6 < without_hero < 1.0


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("How far is the city from Canada?", ()),  # the text says "Canadian"
        ("Why was the note not written by a French hand?", ()),  # "Frenchman"
        ("What did Johnson say?", ("Johnson",)),  # "Johnston" is someone else
        ("What did Merriman say?", ("Merriman",)),  # "merriment" is no name of his
    ],
)
def test_a_name_the_text_uses_in_another_form_is_known(question: str, unknown: tuple[str, ...]) -> None:
    source = Vocabulary({"canadian": 5.0, "frenchman": 5.0, "johnston": 5.0, "merriment": 5.0, "citi": 4.0})
    known = read_question(analyse(question), source, {})  # type: ignore[arg-type]
    assert tuple(name.title() for name in known.unknown) == unknown


def test_a_follow_up_looks_near_the_answer_before_it() -> None:
    def at(doc: str, paragraph: int) -> Sentence:
        return Sentence(doc, paragraph, 1, 0, 1, "x")

    previous = (at("a", 5),)
    assert [near_previous(at("a", p), previous) for p in (5, 4, 6, 3)] == [1.0, 0.5, 0.5, 0.0]
    assert near_previous(at("b", 5), previous) == 0.0  # another document
    assert near_previous(at("a", 5), ()) == 0.0  # no answer before
