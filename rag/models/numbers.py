"""The numbers a text states, in every form another language may write them: digits (with thousands separators),
Chinese numerals, English number words, month names and scaled amounts. Read by the answer check (a rendering may
state no number its source does not) and the refusal (an answering passage holds the question's numbers)."""
from __future__ import annotations

import re
import unicodedata

# A digit run, with decimal, thousands or time separators: "2,000", "3.35", "13:10".
_NUM = re.compile(r"\d+(?:[.,:]\d+)*")
# Thousands grouped by a comma or a space (Chinese UN text writes "151 680", English "$151,680"), never inside a
# longer digit run; an optional decimal part.
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[, \u00a0\u2009\u202f]\d{3})+(?:\.\d+)?(?![\d]|,\d)")
_THOUSANDS = re.compile(r"[, \u00a0\u2009\u202f]")  # the separators `_GROUPED` allows between groups
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_ZH_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千]+")
# English number words up to 99, cardinal and ordinal. "one", "first" and "once" are left out: they are as often
# pronouns or ordinary words as numbers.
_EN_UNITS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
             "twice": 2}
_EN_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
             "seventeen": 17, "eighteen": 18, "nineteen": 19}
_EN_TEENS.update({w + "th": v for w, v in _EN_TEENS.items() if w not in ("twelve",)} | {"twelfth": 12})
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_EN_TENS.update({w[:-1] + "ieth": v for w, v in _EN_TENS.items()})  # "twentieth", "seventieth"
_EN_NUMBER_WORDS = {**_EN_UNITS, **_EN_TEENS, **_EN_TENS}
# "thirty-seventh", "twenty four": a tens word and a unit (with "one"/"first": "twenty-first" is 21)
_EN_COMPOUND = re.compile(r"\b(" + "|".join(_EN_TENS) + r")[- ](one|first|" + "|".join(_EN_UNITS) + r")\b", re.I)
_EN_WORD = re.compile(r"[a-z]+")
MONTH_NAMES = tuple("January February March April May June July August September October November December".split())
_MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)}
# A capitalised month name; "May" only beside a number ("4 May", "May 2015"): elsewhere it is the verb.
_MONTH = re.compile(r"\b(" + "|".join(m for m in _MONTHS if m != "May") + r")\b|\bMay(?=\s+\d)|(?<=\d\s)May\b")
_SCALES = {"万": 10_000, "亿": 100_000_000, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿|thousand|million|billion)", re.I)
# A digit run right after a Latin letter is part of a name or a unit ("km2", "UF6", "G77"), not a number the text
# states; one that continues as a decimal ("Euro1.5 million") still is.
_GLUED = re.compile(r"(?<=[A-Za-z])\d+(?![.,]\d)")


def _scaled(t: str) -> set[str]:
    """ "1 亿" / "100 million" -> "100000000", "8.7亿" -> "870000000" (both ways of writing an amount meet)."""
    out = set()
    for m in _SCALED.finditer(t):
        v = round(float(m.group(1)) * _SCALES[m.group(2).lower()], 6)
        out.add(str(int(v)) if v == int(v) else str(v))
    return out


def _zh_value(s: str) -> int | None:
    """Value of a simple Chinese numeral (一 .. 九千九百九十九); None when it is not one."""
    if all(c in _ZH_DIGITS for c in s):
        return int("".join(str(_ZH_DIGITS[c]) for c in s))
    total, digit = 0, 0
    for c in s:
        if c in _ZH_DIGITS:
            digit = _ZH_DIGITS[c]
        elif c in "十百千":
            total += (digit or 1) * {"十": 10, "百": 100, "千": 1000}[c]
            digit = 0
        else:
            return None
    return total + digit


def _months(t: str) -> set[str]:
    """Capitalised month names as their numbers ("February" -> "2")."""
    return {str(_MONTHS[m.group(0)]) for m in _MONTH.finditer(t)}


def _words(t: str, parts: bool) -> set[str]:
    """English number words ("thirty-seventh" -> "37", and with `parts` also "30" and "7") and capitalised month
    names ("February" -> "2")."""
    out = set()
    for m in _EN_COMPOUND.finditer(t):
        unit = m.group(2).lower()
        out.add(str(_EN_TENS[m.group(1).lower()] + (1 if unit in ("one", "first") else _EN_UNITS[unit])))
    if not parts:
        t = _EN_COMPOUND.sub(" ", t)
    out.update(str(_EN_NUMBER_WORDS[w]) for w in _EN_WORD.findall(t.lower()) if w in _EN_NUMBER_WORDS)
    return out | _months(t)


def numbers(text: str) -> set[str]:
    """Every number `text` holds, as digit strings, in all the forms a rendering or a question may use (lenient:
    what a source or a passage holds).

    Digits ("2,000" and "2 000" -> "2000"; "3.35" -> "3.35", "3", "35"), Chinese numerals ("七" -> "7", "两" ->
    "2"), English number words ("seven" -> "7", "thirty-seventh" -> "37", "30", "7"), month names ("February" ->
    "2") and scaled amounts ("1 亿" -> "100000000").
    """
    t = unicodedata.normalize("NFKC", text)
    out = set()
    for m in _NUM.finditer(t):
        out.add(m.group().replace(",", ""))
        out.update(p for p in re.split(r"[.,:]", m.group()) if p)
    for m in _GROUPED.finditer(t):
        whole = _THOUSANDS.sub("", m.group())
        out.add(whole)
        out.update(p for p in whole.split(".") if p)
    for m in _ZH_NUMERAL.finditer(t):
        v = _zh_value(m.group())
        if v is not None:
            out.add(str(v))
    return out | _words(t, parts=True) | _scaled(t)


def stated_numbers(text: str, number_words: bool = True) -> set[str]:
    """The numbers `text` asserts (strict: what a rendering or a question states): digit groups (a time or decimal
    "3.35" by its parts, a grouped thousand "151 680" whole), English number words (unless `number_words` is
    False), month names, and a scaled amount ("100 million") as its value instead of its digits; a digit run glued
    to a name ("UF6") is no number."""
    t = _GLUED.sub(" ", unicodedata.normalize("NFKC", text))
    skip = [m.span() for m in _SCALED.finditer(t)]
    out = _scaled(t)
    for m in _GROUPED.finditer(t):
        if not any(a <= m.start() < b for a, b in skip):
            out.update(p for p in _THOUSANDS.sub("", m.group()).split(".") if p)
        skip.append(m.span())
    for m in _NUM.finditer(t):
        if any(a <= m.start() < b for a, b in skip):
            continue
        out.update(p for p in re.split(r"[.,:]", m.group()) if p)
    return out | (_words(t, parts=False) if number_words else _months(t))
