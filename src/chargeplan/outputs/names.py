"""Chinese names with their Latin transliteration, the way an English report writes them.

``杭州市`` reads ``Hangzhou 杭州市``: the pinyin of the name without tone marks, written as one
word with a capital (as on maps and in the press), the administrative suffix translated where
English has a word for it (``Hulunbuir League``) and dropped where it does not (``市``, ``省``:
city, province). A name with no Chinese characters is left as it is. Pinyin comes from pypinyin
(MIT) with its phrase dictionary, which reads most place names' polyphones right (``重庆``
Chongqing, ``长沙`` Changsha); the few names the press spells otherwise are listed in
:data:`CONVENTIONAL`.
"""

from __future__ import annotations

import functools
import re

#: Characters of the CJK scripts (unified ideographs and their extensions, punctuation).
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: Administrative suffixes, longest first: what English writes for them ("" drops it).
SUFFIXES = (
    ("特别行政区", "SAR"),
    ("维吾尔自治区", ""),
    ("壮族自治区", ""),
    ("回族自治区", ""),
    ("自治区", ""),
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("地区", "Prefecture"),
    ("林区", "Forestry District"),
    ("盟", "League"),
    ("省", ""),
    ("市", ""),
    ("区", "District"),
    ("县", "County"),
)

#: Peoples named in autonomous prefectures' and counties' names (``恩施土家族苗族自治州``): left
#: out of the Latin form, which keeps the place (``Enshi Autonomous Prefecture``).
PEOPLES = re.compile(
    r"(土家|苗|朝鲜|回|藏|彝|蒙古|哈萨克|柯尔克孜|壮|布依|侗|傣|景颇|白|哈尼|傈僳|羌|纳西|瑶|黎"
    r"|畲|土|撒拉|东乡|保安|裕固|仡佬|水|毛南|仫佬|达斡尔|鄂温克|鄂伦春|满|锡伯|塔吉克)族?$"
)

#: Names English spells otherwise than their pinyin (name without suffix -> spelling).
CONVENTIONAL = {
    "香港": "Hong Kong",
    "澳门": "Macao",
    "内蒙古": "Inner Mongolia",
    "西藏": "Tibet",
    "陕西": "Shaanxi",
    "西安": "Xi'an",
}


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any Chinese (CJK) character."""
    return bool(CJK.search(text))


@functools.cache
def latin(name: str) -> str:
    """The Latin transliteration of a Chinese place name (``杭州市`` -> ``Hangzhou``).

    Parameters
    ----------
    name
        A name; without Chinese characters it is returned unchanged.

    Returns
    -------
    str
        Pinyin without tones, one capitalised word, plus the English of its suffix.
    """
    if not has_cjk(name):
        return name
    from pypinyin import lazy_pinyin  # a dictionary of some MB: only when a name needs it

    stem, english = name.strip(), ""
    for suffix, translation in SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem, english = stem[: -len(suffix)], translation
            break
    if english.startswith("Autonomous"):
        while len(PEOPLES.sub("", stem)) >= 2 and PEOPLES.search(stem):
            stem = PEOPLES.sub("", stem)
    word = CONVENTIONAL.get(stem) or "".join(lazy_pinyin(stem)).capitalize()
    return f"{word} {english}".strip()


def bilingual(name: str) -> str:
    """``Latin 中文`` for a Chinese name (``Hangzhou 杭州市``), the name itself otherwise."""
    name = str(name)
    return f"{latin(name)} {name}" if has_cjk(name) else name
