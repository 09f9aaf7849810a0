"""Trigonometric functions in degrees (sind, cosd, tand, cotd, asind, acosd, atand, atan2d).

Why: PostgreSQL computes these so that the well-known angles are exact (sind(30) = 0.5,
tand(45) = 1, tand(90) = Infinity): it folds the argument into the first quadrant and
scales by the library result at 30/45/60 degrees. Plain sin(radians(x)) gives
0.49999999999999994. This module follows float.c step by step so every bit matches.
"""

from __future__ import annotations

import math

from ..errors import NumericValueOutOfRange
from . import types as T
from .functions import register

F8 = T.FLOAT8
_RAD = math.pi / 180.0
_SIN_30 = math.sin(30.0 * _RAD)
_ONE_MINUS_COS_60 = 1.0 - math.cos(60.0 * _RAD)
_ASIN_0_5 = math.asin(0.5)
_ACOS_0_5 = math.acos(0.5)
_ATAN_1_0 = math.atan(1.0)


def _out_of_range():
    return NumericValueOutOfRange("input is out of range")


def _sind_0_to_30(x):
    return (math.sin(x * _RAD) / _SIN_30) / 2.0


def _cosd_0_to_60(x):
    return 1.0 - ((1.0 - math.cos(x * _RAD)) / _ONE_MINUS_COS_60) / 2.0


def _sind_q1(x):
    return _sind_0_to_30(x) if x <= 30.0 else _cosd_0_to_60(90.0 - x)


def _cosd_q1(x):
    return _cosd_0_to_60(x) if x <= 60.0 else _sind_0_to_30(90.0 - x)


_TAN_45 = _sind_q1(45.0) / _cosd_q1(45.0)
_COT_45 = _cosd_q1(45.0) / _sind_q1(45.0)


def _fold(x, odd_below_zero, odd_above_90):
    """(angle in [0, 90], sign) for x: the symmetries of the function being computed."""
    if math.isinf(x):
        raise _out_of_range()
    sign = 1.0
    x = math.fmod(x, 360.0)
    if x < 0.0:
        x = -x
        if odd_below_zero:
            sign = -sign
    if x > 180.0:
        x = 360.0 - x
        if odd_below_zero:
            sign = -sign
    if x > 90.0:
        x = 180.0 - x
        if odd_above_90:
            sign = -sign
    return x, sign


def sind(x):
    if math.isnan(x):
        return x
    x, sign = _fold(x, True, False)
    return sign * _sind_q1(x)


def cosd(x):
    if math.isnan(x):
        return x
    x, sign = _fold(x, False, True)
    return sign * _cosd_q1(x)


def tand(x):
    if math.isnan(x):
        return x
    x, sign = _fold(x, True, True)
    c = _cosd_q1(x)
    r = sign * ((_sind_q1(x) / c if c else math.inf) / _TAN_45)
    return 0.0 if r == 0.0 else r  # never minus zero


def cotd(x):
    if math.isnan(x):
        return x
    x, sign = _fold(x, True, True)
    s = _sind_q1(x)
    r = sign * ((_cosd_q1(x) / s if s else math.inf) / _COT_45)
    return 0.0 if r == 0.0 else r


def _asind_q1(x):
    if x <= 0.5:
        return (math.asin(x) / _ASIN_0_5) * 30.0
    return 90.0 - (math.acos(x) / _ACOS_0_5) * 60.0


def _acosd_q1(x):
    if x <= 0.5:
        return 90.0 - (math.asin(x) / _ASIN_0_5) * 30.0
    return (math.acos(x) / _ACOS_0_5) * 60.0


def asind(x):
    if math.isnan(x):
        return x
    if not -1.0 <= x <= 1.0:
        raise _out_of_range()
    return _asind_q1(x) if x >= 0.0 else -_asind_q1(-x)


def acosd(x):
    if math.isnan(x):
        return x
    if not -1.0 <= x <= 1.0:
        raise _out_of_range()
    return _acosd_q1(x) if x >= 0.0 else 90.0 + _asind_q1(-x)


def atand(x):
    if math.isnan(x):
        return x
    return (math.atan(x) / _ATAN_1_0) * 45.0


def atan2d(y, x):
    if math.isnan(y) or math.isnan(x):
        return math.nan
    return (math.atan2(y, x) / _ATAN_1_0) * 45.0


def _reg_all():
    for name, fn in (("sind", sind), ("cosd", cosd), ("tand", tand), ("cotd", cotd),
                     ("asind", asind), ("acosd", acosd), ("atand", atand)):
        register(name, (F8,), F8, fn)
    register("atan2d", (F8, F8), F8, atan2d)


_reg_all()
