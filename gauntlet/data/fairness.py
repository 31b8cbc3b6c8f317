"""German Credit and COMPAS: file specs and loaders returning features, labels and groups.

Both loaders return a :class:`FairnessDataset` whose ``y`` is the *favourable* outcome
(1 = good credit / no recidivism within two years) and whose ``group`` is the binary
protected attribute (0 = reference group, 1 = protected group). The protected attribute
is left out of ``X`` (fairness through unawareness is the usual starting point of the
threshold literature; the disparity then comes from correlated features).

- German Credit (UCI Statlog, 1000 rows, 20 attributes, CC BY 4.0): ``y = 1`` for class 1
  (good), group 1 = applicants younger than 25 (149 rows; the split of Kamiran & Calders).
  ``X``: the 6 numeric attributes other than age plus one-hot codes of the 13 categorical ones.
- COMPAS (ProPublica compas-scores-two-years.csv): ProPublica's filters
  (|days_b_screening_arrest| <= 30, is_recid != -1, c_charge_degree != "O",
  score_text != "N/A") and the two largest groups, African-American (group 1) and
  Caucasian (group 0): 5278 rows. ``y = 1 - two_year_recid``. ``X``: age, priors_count,
  juv_fel_count, juv_misd_count, juv_other_count, felony charge, male.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gauntlet.data.fetch import RemoteFile, fetch

GERMAN = RemoteFile(
    relpath="fairness/german.data",
    url="https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/german.data",
    sha256="b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
)
COMPAS = RemoteFile(
    relpath="fairness/compas-scores-two-years.csv",
    url="https://raw.githubusercontent.com/propublica/compas-analysis/master/compas-scores-two-years.csv",
    sha256="c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
)

_GERMAN_NUMERIC = {1: "duration", 4: "credit_amount", 7: "installment_rate", 10: "residence_since",
                   15: "existing_credits", 17: "people_liable"}
_GERMAN_AGE = 12
_GERMAN_YOUNG = 25
_COMPAS_NUMERIC = ("age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count")


@dataclass(frozen=True)
class FairnessDataset:
    name: str
    X: np.ndarray
    """(n, d) float64 features, protected attribute excluded."""
    y: np.ndarray
    """(n,) int64, 1 = favourable outcome."""
    group: np.ndarray
    """(n,) int64, 1 = protected group."""
    feature_names: tuple[str, ...]
    group_names: tuple[str, str]


def load_german(data_home: str | os.PathLike[str] | None = None, download: bool = True) -> FairnessDataset:
    """UCI Statlog German Credit (see the module docstring for the encoding)."""
    import pandas as pd

    path = fetch(GERMAN, data_home, download=download)
    raw = pd.read_csv(path, sep=" ", header=None)
    if raw.shape != (1000, 21):
        raise ValueError(f"{path}: expected 1000 rows x 21 columns, got {raw.shape}")
    numeric = raw[list(_GERMAN_NUMERIC)].astype(float).rename(columns=_GERMAN_NUMERIC)
    categorical = [c for c in range(20) if c not in _GERMAN_NUMERIC and c != _GERMAN_AGE]
    onehot = pd.get_dummies(raw[categorical].astype(str), prefix=[f"a{c + 1}" for c in categorical], dtype=float)
    features = pd.concat([numeric, onehot], axis=1)
    return FairnessDataset(
        name="german",
        X=features.to_numpy(dtype=np.float64),
        y=(raw[20].to_numpy() == 1).astype(np.int64),
        group=(raw[_GERMAN_AGE].to_numpy() < _GERMAN_YOUNG).astype(np.int64),
        feature_names=tuple(features.columns),
        group_names=("age >= 25", "age < 25"),
    )


def load_compas(data_home: str | os.PathLike[str] | None = None, download: bool = True) -> FairnessDataset:
    """ProPublica COMPAS two-year recidivism (see the module docstring for filters and encoding)."""
    import pandas as pd

    path = fetch(COMPAS, data_home, download=download)
    raw = pd.read_csv(path)
    keep = (
        raw["days_b_screening_arrest"].between(-30, 30)
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
        & raw["race"].isin(["African-American", "Caucasian"])
    )
    df = raw[keep]
    features = df[list(_COMPAS_NUMERIC)].astype(float).assign(
        felony=(df["c_charge_degree"] == "F").astype(float),
        male=(df["sex"] == "Male").astype(float),
    )
    return FairnessDataset(
        name="compas",
        X=features.to_numpy(dtype=np.float64),
        y=(1 - df["two_year_recid"].to_numpy()).astype(np.int64),
        group=(df["race"] == "African-American").to_numpy().astype(np.int64),
        feature_names=tuple(features.columns),
        group_names=("Caucasian", "African-American"),
    )


LOADERS = {"german": load_german, "compas": load_compas}
