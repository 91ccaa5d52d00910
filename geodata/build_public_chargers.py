"""Build the national coarse third-party layer: China's public chargers by prefecture.

Run from the repository root::

    PYTHONPATH=src python geodata/build_public_chargers.py

Writes ``models/public-chargers-cn-2024.csv`` (one row per prefecture of
``geodata/china_prefectures.parquet``: ``region`` = its 6-digit ``city_code``, ``name``,
``province``, ``proxy``, ``proxy_share``, ``piles_dc_fast``, ``piles_ac_destination``,
``source``) and prints the check against Shenzhen's real station list and the calibration of
``models/china-2030-competition.toml`` (``docs/competition.md``).

The national counts (``../shared/data/facts/CHINA-EV-FACTS.md``, "Charging infrastructure"):

- 3.58 M public chargers at the end of 2024 (Xinhua/CAAM via urdupoint.com, 2025-01-28);
- 45.3 % of them DC: 1.535 M DC of 3.391 M public piles in October 2024 (EVCIPA via
  gmteight.com/content/detail/197953); the same share is applied to the end-2024 total.

The proxy. Public chargers follow the NEVs that use them, and no count by province or city is
in the facts, so the national count is spread over the mainland's prefectures by the NEV-fleet
proxy the demand stage already computes for the default scenario (``models/china-2030.toml``,
``docs/demand.md``): each prefecture's share of the premium users (``premium_share``), which is
the city's share of China's 2024 NEV sales where CATARC publishes it (Hangzhou, Shenzhen,
Shanghai) and its census propensity (car-owning households x graduates, summed over its
counties, kept in CATARC's published order for Beijing ... Tianjin) elsewhere. Hong Kong and
Macao are outside the mainland count: 0 piles (no figure in the facts). Whole piles per
prefecture and type by the largest remainder, so each type adds up to the national figure.

The check. Shenzhen's real public stations of June-July 2022 (ST-EVCDP, 1,706 stations,
22,872 piles: 2,693 fast, 20,179 slow) against the layer's Shenzhen row, as is (2024 counts)
and scaled to the national count of July 2022: 1,575,000 public piles, 684,000 of them DC
(EVCIPA, 11 August 2022, via wap.asianmetal.com/news/viewNews.am?nId=1842120; not in the facts
file, which gives no 2022 figure).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import chargeplan
from chargeplan.inputs.calibration import largest_remainder

REPO = Path(__file__).resolve().parents[1]
PUBLIC_2024 = 3_580_000  # end 2024, Xinhua/CAAM via urdupoint.com (2025-01-28)
DC_SHARE = 1_535_000 / 3_391_000  # EVCIPA, October 2024, via gmteight.com
PUBLIC_JULY_2022 = 1_575_000  # EVCIPA, July 2022, via wap.asianmetal.com (nId=1842120)
DC_JULY_2022 = 684_000
SHENZHEN = 440300
OUTSIDE_MAINLAND = (810000, 820000)  # Hong Kong, Macao
SOURCE = (
    "3.58 M public chargers end 2024 (Xinhua/CAAM via urdupoint.com, 2025-01-28), 45.3 % DC "
    "(EVCIPA Oct 2024: 1.535 M of 3.391 M, via gmteight.com) x proxy_share"
)


def national_counts() -> dict[str, int]:
    """Public piles of each charger type at the end of 2024 (module docstring)."""
    dc = round(PUBLIC_2024 * DC_SHARE)
    return {"dc_fast": dc, "ac_destination": PUBLIC_2024 - dc}


def prefecture_table(zones: pd.DataFrame, scenario: chargeplan.Scenario) -> pd.DataFrame:
    """The national counts spread over prefectures by ``premium_share`` (module docstring)."""
    code = zones["city_code"].astype(int).to_numpy()
    mainland = ~np.isin(code // 10_000 * 10_000, OUTSIDE_MAINLAND)
    weight = np.where(mainland, zones["premium_share"].to_numpy(float), 0.0)
    calibrated = (
        {str(c) for c in scenario.users.calibration.cities}
        if (scenario.users.calibration is not None)
        else set()
    )
    names = zones["name"].astype(str)
    proxy = np.where(
        names.isin(calibrated) | pd.Series(code.astype(str), index=zones.index).isin(calibrated),
        "city NEV sales 2024 (CATARC, via zhenguoke.com)",
        "premium-user propensity (7th census, county table)",
    )
    proxy = np.where(mainland, proxy, "none: outside the mainland count")
    out = pd.DataFrame(
        {
            "region": code.astype(str),
            "name": names.to_numpy(),
            "province": zones["province"].astype(str).to_numpy(),
            "proxy": proxy,
            "proxy_share": np.round(weight / weight.sum(), 8),
        }
    )
    for charger_type, total in national_counts().items():
        out[f"piles_{charger_type}"] = largest_remainder(weight, total)
    out["source"] = np.where(mainland, SOURCE, "no figure in the facts: 0")
    return out.sort_values("region", kind="stable").reset_index(drop=True)


def shenzhen_check(table: pd.DataFrame, stations_csv: Path) -> dict[str, float]:
    """The layer's Shenzhen against the real 2022 list: counts and ratios (module docstring)."""
    real = pd.read_csv(stations_csv)
    row = table[table["region"] == str(SHENZHEN)].iloc[0]
    layer_dc, layer_ac = float(row["piles_dc_fast"]), float(row["piles_ac_destination"])
    real_dc, real_ac = float(real["fast"].sum()), float(real["slow"].sum())
    scale_dc = DC_JULY_2022 / national_counts()["dc_fast"]
    scale_ac = (PUBLIC_JULY_2022 - DC_JULY_2022) / national_counts()["ac_destination"]
    return {
        "layer_dc": layer_dc,
        "layer_ac": layer_ac,
        "real_dc": real_dc,
        "real_ac": real_ac,
        "ratio_all": (layer_dc + layer_ac) / (real_dc + real_ac),
        "ratio_dc": layer_dc / real_dc,
        "ratio_ac": layer_ac / real_ac,
        "ratio_all_2022": (layer_dc * scale_dc + layer_ac * scale_ac) / (real_dc + real_ac),
        "ratio_dc_2022": layer_dc * scale_dc / real_dc,
        "ratio_ac_2022": layer_ac * scale_ac / real_ac,
    }


def calibrate(
    city_scenario: Path, national_scenario: Path, own_preference: float
) -> dict[str, dict[str, float]]:
    """``own_piles`` of the national scenario that give Shenzhen's prefecture the third-party
    shares the station-scale Shenzhen model gives (``docs/competition.md``).

    The station-scale share of type k is the share of the city's public demand third parties
    take, ``P*_k = sum_i captured_ik / sum_i D_ik``. In the national scenario Shenzhen's zone
    has ``P_k = pull_k / (pull_k + own_preference x own_piles_k)``; its pull is found by
    planning with a unit own attractiveness (``P1 = pull / (pull + 1)``), so
    ``own_piles_k = pull_k (1 - P*_k) / (P*_k own_preference)``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        city = chargeplan.prepare(chargeplan.load_scenario(city_scenario)).zones
        national = chargeplan.load_scenario(national_scenario)
        types = national.charger_types
        unit = national.with_values(
            {"competition.own_preference": 1.0, "competition.own_piles": dict.fromkeys(types, 1.0)}
        )
        zones = chargeplan.prepare(unit).zones
    shenzhen = zones[zones["city_code"].astype(int) == SHENZHEN].iloc[0]
    out: dict[str, dict[str, float]] = {}
    for t in types:
        captured = float(city[f"captured_kwh_{t}"].sum())
        target = captured / (captured + float(city[f"peak_kwh_{t}"].sum()))
        p1 = float(shenzhen[f"third_party_share_{t}"])
        pull = p1 / (1.0 - p1)
        out[t] = {
            "station_scale_share": target,
            "pull": pull,
            "own_piles": pull * (1.0 - target) / (target * own_preference),
        }
    return out


def build(scenario_path: Path, out: Path) -> pd.DataFrame:
    """Write the table for ``scenario_path``'s zones (the default scenario) to ``out``."""
    scenario = chargeplan.load_scenario(scenario_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demand stage's acknowledged data warnings
        zones = chargeplan.prepare(scenario).zones
    table = prefecture_table(zones, scenario)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, lineterminator="\n")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPO / "models" / "china-2030.toml")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "public-chargers-cn-2024.csv")
    parser.add_argument(
        "--stations",
        type=Path,
        default=REPO / "geodata" / "shenzhen" / "shenzhen_public_stations_2022.csv",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="also print own_piles for models/china-2030-competition.toml (two plans' inputs)",
    )
    args = parser.parse_args()
    table = build(args.scenario, args.out)
    totals = {c: int(table[c].sum()) for c in table.columns if c.startswith("piles_")}
    print(f"wrote {args.out}: {len(table)} prefectures, {totals}")
    check = shenzhen_check(table, args.stations)
    print(
        "Shenzhen: layer {layer_dc:,.0f} DC + {layer_ac:,.0f} AC (2024); real 2022 list "
        "{real_dc:,.0f} fast + {real_ac:,.0f} slow".format(**check)
    )
    print(
        "layer / real: all {ratio_all:.2f}, DC {ratio_dc:.2f}, AC {ratio_ac:.2f}; scaled to "
        "July 2022's national count: all {ratio_all_2022:.2f}, DC {ratio_dc_2022:.2f}, "
        "AC {ratio_ac_2022:.2f}".format(**check)
    )
    if args.calibrate:
        models = REPO / "models"
        national = chargeplan.load_scenario(models / "china-2030-competition.toml")
        preference = national.competition.own_preference if national.competition else 1.0
        for t, figures in calibrate(
            models / "shenzhen-2030.toml", models / "china-2030-competition.toml", preference
        ).items():
            print(
                f"{t}: station-scale Shenzhen share {figures['station_scale_share']:.4f}, "
                f"prefecture pull {figures['pull']:,.1f}, own_piles at own_preference "
                f"{preference:g}: {figures['own_piles']:,.1f}"
            )


if __name__ == "__main__":
    main()
