"""Words as a reader splits a line, from IAM's tokenised transcription.

IAM's lines.txt (after the LOB corpus) writes punctuation and clitics as words
of their own: ``It|'s|late|.``. Counted that way, a missed full stop is a word
error. :func:`join_tokens` undoes :func:`seqlab.data.synthetic_handwriting.iam_tokenise`
(``It 's late .`` -> ``It's late.``) so that a word error rate can also be
computed over the words a reader sees (the ``wer_joined`` metric).
"""

from __future__ import annotations

import re

# tokens attached to the word before them
_TRAILING = set(".,;:?!)]")
_CLITIC = re.compile(r"^(n't|'s|'re|'ve|'ll|'m|'d)$", re.IGNORECASE)
# tokens attached to the word after them
_LEADING = set("([")
# a quote opens (attaches forwards) or closes (attaches backwards)
_QUOTES = set("'\"")


def _attaches_back(token: str) -> bool:
    return all(c in _TRAILING for c in token) or bool(_CLITIC.match(token))


def _closes(tokens: list[str], i: int, open_quotes: set[str]) -> bool:
    """Whether the quote ``tokens[i]`` closes a quotation, from its neighbours.

    Before ``,.;:?!``, a clitic, another quote or the end of the line it
    closes; at the start it opens; else it closes an open quotation or one
    between punctuation and a lower-case word (``? ' asked``), opens one that a
    later quote closes, and otherwise (a line cut mid-quotation) closes before a
    lower-case word (``boy , ' he said``) and opens before a capital.
    """
    if i == 0:
        return False
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if after is None or _attaches_back(after) or after in _QUOTES or tokens[i] in open_quotes:
        return True
    if all(c in _TRAILING for c in tokens[i - 1]) and not after[0].isupper():
        return True  # "there ? ' asked Anne"
    if tokens[i] in tokens[i + 1 :]:
        return False
    return not after[0].isupper()


def join_tokens(text: str) -> list[str]:
    """IAM tokens (space-separated) -> words with their punctuation and clitics attached.

    ``"tomorrow ."`` -> ``["tomorrow."]``; ``"It 's"`` -> ``["It's"]``;
    ``"do n't"`` -> ``["don't"]``; ``"' Yes , ' he said ."`` -> ``["'Yes,'", "he", "said."]``;
    ``"( see p. 3 )"`` -> ``["(see", "p.", "3)"]``. A punctuation token with no
    word to attach to stays a word. The one ambiguity left: a possessive
    apostrophe written apart (``boys ' dog``) reads as an opening quote.
    """
    tokens = text.split()
    words: list[str] = []
    pending = ""  # opening brackets / quotes waiting for their word
    open_quotes: set[str] = set()
    for i, token in enumerate(tokens):
        if token in _QUOTES:
            if _closes(tokens, i, open_quotes) and words and not pending:
                open_quotes.discard(token)
                words[-1] += token
            else:
                open_quotes.add(token)
                pending += token
        elif all(c in _LEADING for c in token):
            pending += token
        elif _attaches_back(token) and words and not pending:
            words[-1] += token
        else:
            words.append(pending + token)
            pending = ""
    if pending:
        words.append(pending)
    return words
