"""Province names in one script across every table: Chinese, with a pinyin column beside it.

The zone data name provinces in Chinese (``安徽省``, 2020 census), the candidate sites in
pinyin (``Anhui``, Natural Earth). Every written table gets the Chinese name in its province
column and the pinyin in ``<column>_pinyin`` next to it (:func:`harmonise_provinces`).

Source: the 34 provincial-level divisions of GB/T 2260 (administrative division codes of the
People's Republic of China, as in the shipped ``province_code`` column), with their Hanyu Pinyin
names; the aliases are the Natural Earth spellings of the shipped candidate sites.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["PROVINCES", "harmonise_provinces"]

#: (GB/T 2260 code, Chinese name, pinyin, other spellings)
PROVINCES: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (110000, "北京市", "Beijing", ()),
    (120000, "天津市", "Tianjin", ()),
    (130000, "河北省", "Hebei", ()),
    (140000, "山西省", "Shanxi", ()),
    (150000, "内蒙古自治区", "Nei Mongol", ("Inner Mongolia", "Neimenggu")),
    (210000, "辽宁省", "Liaoning", ()),
    (220000, "吉林省", "Jilin", ()),
    (230000, "黑龙江省", "Heilongjiang", ()),
    (310000, "上海市", "Shanghai", ()),
    (320000, "江苏省", "Jiangsu", ()),
    (330000, "浙江省", "Zhejiang", ()),
    (340000, "安徽省", "Anhui", ()),
    (350000, "福建省", "Fujian", ()),
    (360000, "江西省", "Jiangxi", ()),
    (370000, "山东省", "Shandong", ()),
    (410000, "河南省", "Henan", ()),
    (420000, "湖北省", "Hubei", ()),
    (430000, "湖南省", "Hunan", ()),
    (440000, "广东省", "Guangdong", ()),
    (450000, "广西壮族自治区", "Guangxi", ("Guangxi Zhuang",)),
    (460000, "海南省", "Hainan", ()),
    (500000, "重庆市", "Chongqing", ()),
    (510000, "四川省", "Sichuan", ()),
    (520000, "贵州省", "Guizhou", ()),
    (530000, "云南省", "Yunnan", ()),
    (540000, "西藏自治区", "Xizang", ("Tibet",)),
    (610000, "陕西省", "Shaanxi", ()),
    (620000, "甘肃省", "Gansu", ()),
    (630000, "青海省", "Qinghai", ()),
    (640000, "宁夏回族自治区", "Ningxia", ("Ningxia Hui",)),
    (650000, "新疆维吾尔自治区", "Xinjiang", ("Xinjiang Uygur", "Xinjiang Uyghur")),
    (710000, "台湾省", "Taiwan", ()),
    (810000, "香港特别行政区", "Hong Kong", ("Xianggang",)),
    (820000, "澳门特别行政区", "Macao", ("Macau", "Aomen")),
)

#: Any spelling (Chinese, pinyin, alias; case-insensitive for Latin ones) -> Chinese name.
_CHINESE = {
    spelling.casefold(): zh
    for _, zh, pinyin, aliases in PROVINCES
    for spelling in (zh, pinyin, *aliases)
}
_PINYIN = {zh: pinyin for _, zh, pinyin, _ in PROVINCES}


def harmonise_provinces(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with each of ``columns`` that holds province names in Chinese script, and
    their pinyin in ``<column>_pinyin`` right after it.

    A column is changed only if every non-empty value is a province name in some spelling
    (a study's own regions, such as ``"a"``, stay as they are).
    """
    out = frame
    for column in columns:
        if column not in out.columns or f"{column}_pinyin" in out.columns:
            continue
        values = out[column].fillna("").astype(str)
        keys = values.str.strip().str.casefold()
        filled = keys != ""
        if not filled.any() or not keys[filled].isin(list(_CHINESE)).all():
            continue
        chinese = keys.map(lambda key: _CHINESE.get(key, ""))
        out = out.copy() if out is frame else out
        out[column] = chinese.to_numpy()
        out.insert(
            out.columns.get_loc(column) + 1,
            f"{column}_pinyin",
            chinese.map(lambda zh: _PINYIN.get(zh, "")).to_numpy(),
        )
    return out
