"""Words, sentences and markup: the small text toolkit the planner, ranking and validation share.

Deliberately language-light: lower-cased word tokens, an English stop list, a light suffix
stemmer (enough to match "models" with "model" and "editing" with "edit"), and a sentence
splitter that knows the usual abbreviations of scholarly text. Ranking proper uses SQLite's
porter tokenizer (:mod:`.rank`); these helpers only need to agree with it roughly.
"""

from __future__ import annotations

import html
import re


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"\s+")

STOPWORDS = _word_set(
    """
    a about above after again against all also am an and any are aren as at be because been before being
    below between both but by can cannot could did do does doing don down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is isn it its itself just
    me more most my myself no nor not now of off on once only or other ought our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would
    you your yours yourself yourselves via vs versus etc per within without whether across among amongst
    upon onto toward towards s t d ll m re ve y
    """
)

# Words that frame a question rather than name its subject: kept for ranking, queried last.
GENERIC = _word_set(
    """
    effect effects impact impacts role roles use uses used using benefit benefits risk risks history causes
    cause caused causing work works working worked best new latest recent recently current currently modern
    future main key type types kind kinds approach approaches method methods way ways known know explain
    explained overview compare compared comparison difference differences different versus state evidence
    research study studies trend trends today good better worse improve improves improved improving affect
    affects affected affecting influence influences factor factors example examples many much often make makes
    made making does happen happens really actually important common problem problems issue issues question
    questions thing things people year years tell find show shows shown mean means meaning define definition
    describe why how what which who whose whom reduce reduces reduced reducing increase increases increased
    increasing prevent prevents prevented preventing help helps helped change changes changed changing lead
    leads led create creates created write writes writing written wrote build builds built get gets got
    give gives take takes go goes went come comes came become becomes became keep keeps allow allows allowed
    enable enables enabled remove removed removes removing spread spreads spreading release releases released
    produce produces produced work effective effectively possible likely large small high low long short big
    real true false whole part parts level levels high higher lower large larger major minor much more less
    list summarize summarise please discuss
    """
)

_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "fig.", "figs.", "eq.", "no.", "approx.", "cf.", "dr.", "mr.", "ms.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [match.group(0).lower() for match in _WORD.finditer(text)]


def stem(word: str) -> str:
    """A light English stemmer: plural and common verbal endings, nothing clever."""
    w = word.lower()
    if len(w) <= 3:
        return w
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                return w
            if suffix == "es" and not w.endswith(("ches", "shes", "xes", "zes", "sses")):
                return w[:-1]
            return w[: len(w) - len(suffix)] + replacement
    return w


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning (no stop words, no single letters)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1}


def strip_html(text: str) -> str:
    """Text of an HTML or JATS fragment: tags dropped, entities decoded, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations such as "e.g." and "et al." inside."""
    protected = text
    for index, abbreviation in enumerate(_ABBREVIATIONS):
        protected = re.sub(re.escape(abbreviation), f"\x00{index}\x00", protected, flags=re.IGNORECASE)
    parts = _SENTENCE_END.split(squash(protected))
    restored = []
    for part in parts:
        sentence = part
        for index, abbreviation in enumerate(_ABBREVIATIONS):
            sentence = sentence.replace(f"\x00{index}\x00", abbreviation)
        if sentence.strip():
            restored.append(sentence.strip())
    return restored


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with an ellipsis."""
    text = squash(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(",;:") + "…"


def normalise_title(title: str) -> str:
    """A title reduced for comparison: lower-case words without punctuation."""
    return " ".join(words(title))
