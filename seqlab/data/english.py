"""A deterministic generator of plausible English text lines, with no downloaded text.

The synthetic handwriting corpus needs text that looks like the prose of a
handwritten page (the IAM forms copy sentences of the LOB corpus): capitalised
sentences, commas, final ``.``/``?``/``!``, quoted speech with ``'``,
contractions and some digits. A small non-recursive template grammar over a
hand-written vocabulary of a few hundred words produces such sentences; a
stream of them is then cut into lines of a given length, like lines of a page
(a line usually starts and ends in mid-sentence).

Usage::

    gen = SentenceGenerator(seed=0)
    gen.line()            # e.g. "station before noon. 'We can't stay here,'"
    vocabulary()          # every word form a line can contain
"""

from __future__ import annotations

import random
import re
from collections import deque
from functools import lru_cache

from seqlab.errors import ConfigError

__all__ = ["SentenceGenerator", "charset", "vocabulary"]

# Grammar notation: a rule's alternatives are strings of space-separated
# symbols; ``<name>`` is a rule or a word class, anything else is a literal word
# or punctuation mark. « and » stand for the opening and closing quote (both
# written ``'``); they differ only in how they attach to their neighbours.
# The grammar is non-recursive, so expansion always terminates.
_OPEN_QUOTE, _CLOSE_QUOTE = "«", "»"
_NO_SPACE_BEFORE = frozenset({",", ".", "?", "!", _CLOSE_QUOTE})
_SENTENCE_END = frozenset({".", "?", "!"})


def _w(text: str) -> tuple[str, ...]:
    """Split a space-separated word list."""
    return tuple(text.split())


def _p(text: str) -> tuple[str, ...]:
    """Split a comma-separated list of (possibly multi-word) phrases."""
    return tuple(item.strip() for item in text.split(","))


# Word classes: each entry is one terminal (a word or a fixed phrase).
_LEXICON: dict[str, tuple[str, ...]] = {
    "det": _w("the the the the a a this that his her their our my every another one"),
    "det_poss": _w("his her their our my your"),
    "adj": _w(
        "old young small large little quiet busy cold warm dark bright tall short long "
        "narrow wide new empty heavy strange gentle kind clever tired happy angry careful "
        "famous simple pleasant lovely ancient modern wooden broken pale grey green red "
        "white black brown blue golden silent distant local private public handsome "
        "beautiful ugly honest elderly proud poor rich foreign familiar serious curious "
        "patient nervous cheerful enormous tiny splendid ordinary useful important quick "
        "fresh clean dirty wet dry soft hard thin thick round square plain sweet"
    ),
    "adj_pred": _w(
        "tired happy angry late early ready right wrong afraid alone asleep awake sorry "
        "glad certain sure busy ill well hungry cold lucky careful quiet silent pleased "
        "worried surprised"
    ),
    "adj_weather": _p(
        "cold, warm, dark, late, quiet, wet and windy, cold and grey, bright and clear, "
        "nearly midnight, almost dark, a fine day, a long winter"
    ),
    "noun_person": _w(
        "man woman boy girl child teacher doctor farmer soldier sailor driver stranger "
        "neighbour friend brother sister mother father uncle aunt minister clerk nurse "
        "priest student officer baker writer painter manager servant visitor traveller "
        "engineer lawyer merchant captain gardener fisherman policeman waiter porter king "
        "queen widow lady gentleman professor secretary editor judge"
    ),
    "noun_persons": _w(
        "men women children teachers doctors farmers soldiers sailors visitors students "
        "officers neighbours friends travellers workers boys girls"
    ),
    "noun_thing": _w(
        "letter book key box coat hat bag basket bottle cup chair table lamp clock picture "
        "newspaper ticket parcel umbrella pencil map ring bicycle car boat horse dog cat "
        "bird apple loaf knife candle blanket window door photograph message report bill "
        "plan list wallet envelope coin pipe notebook suitcase glass violin telegram carpet "
        "mirror"
    ),
    "noun_readable": _w("letter book newspaper message report notice telegram note poem list"),
    "noun_things": _w(
        "letters books keys boxes apples eggs chairs pages questions trees ships horses "
        "houses pictures coins candles bottles flowers stamps tickets"
    ),
    "noun_units": _w("years days weeks miles pounds shillings minutes hours feet yards"),
    "noun_place": _w(
        "station market church school house garden village town city river bridge harbour "
        "hospital office library museum theatre hotel farm forest hill beach castle chapel "
        "square park factory kitchen cottage shop bank inn palace mill field valley lake "
        "road street corner"
    ),
    "name_person": _p(
        "John, Mary, Peter, Margaret, Thomas, Elizabeth, Harold, Alice, Robert, James, "
        "Sarah, George, Anne, William, Catherine, Henry, Helen, Arthur, Edith, Charles, "
        "Dorothy, David, Jane, Michael, Susan, Mr. Brown, Mrs. Hill, Dr. Fraser, "
        "Mr. Gaitskell, Mrs. Palmer, Miss Carter, Mr. Wilson, Mrs. Jones, Captain Hughes"
    ),
    "name_place": _w(
        "London Paris Oxford Cambridge Edinburgh Manchester Bristol York Dublin Rome Berlin "
        "Glasgow Brighton Liverpool Dover Africa America France Scotland Wales Ireland"
    ),
    "pron_subj_sg": _w("he she I"),
    "pron_subj_pl": _w("they we you"),
    "pron_obj": _w("him her them us me you"),
    "v_intr_past": _p(
        "arrived, laughed, smiled, waited, slept, listened, hesitated, paused, nodded, "
        "sighed, agreed, disappeared, returned, stopped, fell asleep, sat down, stood up, "
        "shouted, whispered, trembled, wept, frowned, shrugged, vanished, recovered, "
        "complained, left early, stayed at home"
    ),
    "v_motion_past": _w(
        "walked went ran hurried drove rode travelled returned moved wandered sailed "
        "climbed marched crept strolled cycled rushed"
    ),
    "v_motion_base": _w("walk go run hurry drive ride travel return move sail climb"),
    "prep_dir": _p(
        "to, towards, into, across, through, past, along, round, back to, down to, up to, "
        "out of"
    ),
    "prep_loc": _p("near, behind, beside, in front of, outside, inside, opposite, beyond"),
    "v_thing_past": _w(
        "found bought sold opened closed carried lost noticed mended cleaned borrowed "
        "brought took left kept sent received dropped hid packed delivered examined chose "
        "wanted held forgot remembered"
    ),
    "v_thing_base": _w(
        "find buy sell open close carry lose notice mend clean borrow bring take leave "
        "keep send receive drop hide pack deliver examine choose want hold forget"
    ),
    "v_thing_pp": _w(
        "found bought sold opened lost noticed mended cleaned borrowed brought taken left "
        "kept sent received seen forgotten"
    ),
    "v_person_past": _w(
        "met thanked helped warned followed visited recognised asked called admired "
        "ignored questioned watched saw loved trusted"
    ),
    "v_person_base": _w(
        "meet thank help warn follow visit recognise ask call trust believe know understand "
        "forgive"
    ),
    "v_read_past": _w("read wrote finished signed copied"),
    "v_say_past": _w(
        "said replied answered whispered shouted explained admitted insisted complained "
        "remarked cried murmured announced added"
    ),
    "v_ing": _w(
        "walking reading waiting writing singing smiling working sleeping laughing "
        "talking sitting standing painting cooking dancing"
    ),
    "modal": _w("could would should might must will can may"),
    "modal_neg": _p("didn't, couldn't, wouldn't, won't, can't, shouldn't, mustn't, did not, could not"),
    "adv": _p(
        "slowly, quickly, quietly, carefully, suddenly, gently, happily, angrily, softly, "
        "loudly, politely, patiently, calmly, eagerly, nervously, silently, at once, again, "
        "alone, together, at last, immediately, reluctantly, cheerfully"
    ),
    "day": _w("Monday Tuesday Wednesday Thursday Friday Saturday Sunday"),
    "month": _w(
        "January February March April May June July August September October November December"
    ),
    "year": _w("1848 1914 1926 1939 1945 1951 1953 1956 1959 1960 1961 1962 1963 1964"),
    "clock": _w("1 2 3 4 5 6 7 8 9 10 11 12"),
    "number_word": _w("two three four five six seven eight nine ten twelve twenty fifty"),
    "number_digits": _w("2 3 4 5 6 7 8 10 12 15 20 24 30 40 50 100 250"),
    "time_phrase": _p(
        "before noon, after dinner, after lunch, before breakfast, in the morning, "
        "in the afternoon, in the evening, at night, at dawn, at midnight, yesterday, "
        "last week, last night, last year, last summer, the next day, the next morning, "
        "that evening, soon afterwards"
    ),
    "time_future": _p("tomorrow, next week, tonight, soon, in the morning, after lunch"),
    "interjection": _w("Oh Well Yes No Alas"),
}

# Rules: name -> alternatives (repeated alternatives are more likely).
_GRAMMAR: dict[str, tuple[str, ...]] = {
    "sentence": (
        "<clause> .",
        "<clause> .",
        "<clause> <time> .",
        "<clause> <time> .",
        "<time> , <clause> .",
        "<clause> , but <clause> .",
        "<clause> and <clause> .",
        "<clause> because <clause> .",
        "when <clause> , <clause> .",
        "<subj> <v_say_past> that <clause> .",
        "<number_fact> .",
        "<question> ?",
        "<question> ?",
        "<exclamation> !",
        "<quote>",
        "<quote>",
        "<interjection> , <clause> .",
    ),
    "time": (
        "<time_phrase>",
        "<time_phrase>",
        "on <day>",
        "in <month>",
        "in <year>",
        "at <clock> o'clock",
        "<number_word> days later",
        "<number_digits> years ago",
    ),
    "clause": (
        "<subj> <v_intr_past>",
        "<subj> <v_intr_past> <adv>",
        "<subj> <v_motion_past> <prep_dir> <np_place>",
        "<subj> <v_motion_past> <prep_dir> <np_place>",
        "<subj> <v_motion_past> to <name_place>",
        "<subj> <v_thing_past> <np_thing>",
        "<subj> <v_thing_past> <np_thing> <adv>",
        "<subj> <v_person_past> <np_person>",
        "<subj> <v_read_past> <det> <noun_readable>",
        "<subj> <modal_neg> <v_thing_base> <np_thing>",
        "<subj> <modal> <v_person_base> <np_person>",
        "<subj> had never <v_thing_pp> <np_thing>",
        "<subj_sg> was <adj_pred>",
        "<subj_pl> were <adj_pred>",
        "<subj_sg> was <v_ing> in the <noun_place>",
        "<subj_pl> were <v_ing> <prep_loc> the <noun_place>",
        "there was <det> <adj> <noun_thing> <prep_loc> the <noun_place>",
        "it was <adj_weather>",
    ),
    "subj": ("<subj_sg>", "<subj_sg>", "<subj_pl>"),
    "subj_sg": (
        "the <noun_person>",
        "the <adj> <noun_person>",
        "<det_poss> <noun_person>",
        "<name_person>",
        "<name_person>",
        "<pron_subj_sg>",
        "<pron_subj_sg>",
        "the <noun_person> from the <noun_place>",
        "a <adj> <noun_person>",
    ),
    "subj_pl": (
        "<pron_subj_pl>",
        "<pron_subj_pl>",
        "the <noun_persons>",
        "the <adj> <noun_persons>",
        "<number_word> <noun_persons>",
        "<name_person> and <name_person>",
    ),
    "np_person": (
        "the <noun_person>",
        "<det> <adj> <noun_person>",
        "<name_person>",
        "<pron_obj>",
        "<det_poss> <noun_person>",
    ),
    "np_thing": (
        "<det> <noun_thing>",
        "<det> <adj> <noun_thing>",
        "<det> <noun_thing>",
        "<number_word> <noun_things>",
        "<number_digits> <noun_things>",
        "the <noun_thing> of the <noun_person>",
    ),
    "np_place": ("the <noun_place>", "the <adj> <noun_place>", "<det_poss> <noun_place>"),
    "number_fact": (
        "<subj> paid <number_digits> pounds for the <noun_thing>",
        "the journey took <number_digits> <noun_units>",
        "the <noun_place> was <number_digits> miles from <name_place>",
        "in <year> there were <number_digits> <noun_persons> in the <noun_place>",
        "<subj_sg> was born in <year>",
    ),
    "question": (
        "did <subj> <v_thing_base> <np_thing>",
        "did <subj> <v_person_base> <np_person>",
        "where did <subj> <v_thing_base> <np_thing>",
        "why did <subj> <v_motion_base> <prep_dir> <np_place>",
        "have you seen <np_thing>",
        "who <v_person_past> <np_person>",
        "how many <noun_things> did <subj> <v_thing_base>",
        "was <subj_sg> <adj_pred>",
        "were <subj_pl> <adj_pred>",
    ),
    "exclamation": (
        "what a <adj> <noun_thing> it was",
        "how <adj> the <noun_place> looked",
        "I can't believe it",
        "we've done it at last",
        "what a <adj> day",
        "<subj> <v_thing_past> <np_thing>",
    ),
    "quote": (
        "« <speech> , » <subj> <v_say_past> .",
        "« <speech> , » <v_say_past> <name_person> .",
        "« <speech> , » <v_say_past> the <noun_person> .",
        "« <speech_q> ? » asked <name_person> .",
        "« <speech_q> ? » asked the <adj> <noun_person> .",
        "<subj> <v_say_past> , « <speech> . »",
    ),
    "speech": (
        "I'm <adj_pred>",
        "it's <adj_weather>",
        "it's too late",
        "we can't <v_thing_base> <np_thing>",
        "I don't <v_person_base> <np_person>",
        "you'll <v_thing_base> <np_thing> <time_future>",
        "they're <v_ing> <prep_loc> the <noun_place>",
        "we'll <v_motion_base> <prep_dir> <np_place> <time_future>",
        "I've lost <np_thing>",
        "don't <v_thing_base> <np_thing>",
        "that's <adj_pred>",
        "there's <det> <noun_thing> in the <noun_place>",
        "he isn't <adj_pred>",
        "she won't <v_person_base> <np_person>",
        "<clause>",
    ),
    "speech_q": (
        "where's the <noun_thing>",
        "isn't it <adj_weather>",
        "can't you <v_thing_base> <np_thing>",
        "who's there",
        "aren't they <v_ing>",
        "did you <v_person_base> <np_person>",
        "what's the matter",
        "<question>",
    ),
}

_SYMBOL = re.compile(r"<(\w+)>")


def _is_symbol(token: str) -> bool:
    return _SYMBOL.fullmatch(token) is not None


def _alternatives(name: str) -> tuple[str, ...]:
    if name in _GRAMMAR:
        return _GRAMMAR[name]
    return _LEXICON[name]


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


def _article(next_word: str) -> str:
    """``a`` or ``an`` before ``next_word`` (spelling rule with the usual exceptions)."""
    lower = next_word.lower()
    if lower.startswith(("uni", "use", "one", "eu")):
        return "a"
    if lower[:1] in "aeiou" or lower.startswith(("hour", "honest")):
        return "an"
    return "a"


class SentenceGenerator:
    """Deterministic stream of English text, served as lines of a handwritten page.

    Args:
        seed: the same seed always yields the same sequence of lines.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        # Whitespace-separated chunks ("station.", "'We") still to be put on lines.
        self._pending: deque[str] = deque()

    def sentence(self) -> str:
        """One complete sentence, e.g. ``"The old man walked to the station before noon."``."""
        tokens = self._expand("sentence")
        return self._join(tokens)

    def line(self, min_chars: int = 15, max_chars: int = 45) -> str:
        """The next line of running text, ``min_chars <= len(line) <= max_chars``.

        Lines are cut at word boundaries from a stream of sentences, so a line may
        start or end mid-sentence, like a line of a handwritten page. Words longer
        than ``max_chars`` are skipped. Lines never have leading, trailing or double
        spaces.
        """
        if not 1 <= min_chars <= max_chars:
            raise ConfigError(
                f"line length bounds must satisfy 1 <= min_chars <= max_chars, "
                f"got min_chars={min_chars}, max_chars={max_chars}"
            )
        target = self._rng.randint(min_chars, max_chars)
        words: list[str] = []
        length = 0
        for _ in range(10_000):  # guards against bounds no word sequence can meet
            chunk = self._next_chunk()
            if len(chunk) > max_chars:
                continue
            new_length = length + len(chunk) + (1 if words else 0)
            if new_length > target and length >= min_chars:
                self._pending.appendleft(chunk)
                return " ".join(words)
            if new_length > max_chars:
                # Still too short, and the next word does not fit: start afresh.
                words, length = [chunk], len(chunk)
                continue
            words.append(chunk)
            length = new_length
            # A paragraph sometimes ends with its sentence, as on a real page.
            if length >= min_chars and chunk[-1] in _SENTENCE_END and self._rng.random() < 0.12:
                return " ".join(words)
        raise ConfigError(f"cannot make a line of {min_chars}..{max_chars} characters")

    def _next_chunk(self) -> str:
        if not self._pending:
            self._pending.extend(self.sentence().split(" "))
        return self._pending.popleft()

    def _expand(self, name: str) -> list[str]:
        alternative = self._rng.choice(_alternatives(name))
        tokens: list[str] = []
        for token in alternative.split(" "):
            match = _SYMBOL.fullmatch(token)
            tokens.extend(self._expand(match.group(1)) if match else [token])
        return tokens

    @staticmethod
    def _join(tokens: list[str]) -> str:
        """Tokens -> text: attach punctuation and quotes, a/an, capitals."""
        words: list[str] = []
        capital_next = True
        glue_next = False  # the previous token was an opening quote
        for i, token in enumerate(tokens):
            if token == "a" and i + 1 < len(tokens):
                token = _article(tokens[i + 1])
            if token == _OPEN_QUOTE:
                words.append("'")
                glue_next, capital_next = True, True
                continue
            text = "'" if token == _CLOSE_QUOTE else token
            if capital_next and token not in _NO_SPACE_BEFORE:
                text, capital_next = _capitalise(text), False
            if words and (token in _NO_SPACE_BEFORE or glue_next):
                words[-1] += text
            else:
                words.append(text)
            glue_next = False
        return " ".join(words)


def _first_words(name: str) -> set[str]:
    """Words that can start an expansion of ``name`` (the grammar has no empty rules)."""
    first: set[str] = set()
    for alternative in _alternatives(name):
        head = alternative.split(" ")[0]
        match = _SYMBOL.fullmatch(head)
        if match:
            first |= _first_words(match.group(1))
        elif head not in (_OPEN_QUOTE, _CLOSE_QUOTE):
            first.add(head)
    return first


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    words: set[str] = set()
    for alternatives in (*_GRAMMAR.values(), *_LEXICON.values()):
        for alternative in alternatives:
            words.update(t for t in alternative.split(" ") if not _is_symbol(t))
    # Sentence and quotation starts are capitalised.
    starts = _first_words("sentence") | _first_words("speech") | _first_words("speech_q")
    words |= {_capitalise(w) for w in starts}
    words = {part for w in words for part in w.split(" ")}
    if "a" in words:
        words.add("an")
    if "A" in words:
        words.add("An")
    punctuation = {",", ".", "?", "!", _OPEN_QUOTE, _CLOSE_QUOTE}
    return tuple(sorted(words - punctuation))


def vocabulary() -> list[str]:
    """Every word form a generated line can contain, sorted.

    Words are as written in the text, punctuation excluded: contractions keep their
    apostrophe (``can't``, ``It's``), abbreviations their full stop (``Mr.``), and
    capitalised forms of words that can start a sentence or a quotation are included.
    """
    return list(_vocabulary())


def charset() -> list[str]:
    """Every character a generated line can contain (letters, digits, space, punctuation), sorted."""
    return sorted(set("".join(_vocabulary())) | set(",.?!' "))
