"""Mathematical functions with PostgreSQL's per-type overloads and result scales.

Why: round(2.5::float8) is 2 (rint) while round(2.5) is 3 (numeric, half away from zero);
sqrt/ln/exp on numeric pick PostgreSQL's result scale; integer abs/gcd overflow is an
error. Overloads mirror pg_proc so resolution picks the same variant as PostgreSQL.
"""

from __future__ import annotations

import math
from decimal import Decimal

from ..errors import (
    ArraySubscriptError,
    DivisionByZero,
    NullValueNotAllowed,
    NumericValueOutOfRange,
)
from . import numerics as nums
from . import types as T
from .compare import sort_key
from .functions import register
from .ops_impl import float_pow
from .overload import ANYCOMPATIBLE, ANYCOMPATIBLEARRAY

F8, N, I2, I4, I8, F4 = T.FLOAT8, T.NUMERIC, T.INT2, T.INT4, T.INT8, T.FLOAT4


def _fcheck(v: float, *inputs) -> float:
    if math.isinf(v) and not any(math.isinf(x) for x in inputs):
        raise NumericValueOutOfRange("value out of range: overflow")
    return v


def _ln(x: float) -> float:
    if x == 0:
        raise nums.InvalidArgumentForLog("cannot take logarithm of zero")
    if x < 0:
        raise nums.InvalidArgumentForLog("cannot take logarithm of a negative number")
    return math.log(x) if not math.isinf(x) else x


def _log10(x: float) -> float:
    if x == 0:
        raise nums.InvalidArgumentForLog("cannot take logarithm of zero")
    if x < 0:
        raise nums.InvalidArgumentForLog("cannot take logarithm of a negative number")
    return math.log10(x) if not math.isinf(x) else x


def _exp(x: float) -> float:
    try:
        r = math.exp(x)
    except OverflowError:
        raise NumericValueOutOfRange("value out of range: overflow") from None
    if r == 0 and not math.isinf(x):
        raise NumericValueOutOfRange("value out of range: underflow")
    return r


def _sqrt(x: float) -> float:
    if x < 0:
        raise nums.InvalidArgumentForPower("cannot take square root of a negative number")
    return math.sqrt(x)


def _cbrt(x: float) -> float:
    return math.cbrt(x)  # the C library's cbrt, as PostgreSQL


def _sign_float(x: float) -> float:
    if math.isnan(x):
        return x
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _sign_numeric(x: Decimal) -> Decimal:
    if x.is_nan():
        return x
    return Decimal(1) if x > 0 else (Decimal(-1) if x < 0 else Decimal(0))


def _round_float(x: float, digits=None) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    return float(round(x))


def _trunc_float(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    return float(math.trunc(x))


def _int_abs(oid):
    return lambda x: nums.check_int(abs(x), oid)


def _gcd(oid):
    def f(a, b):
        r = math.gcd(a, b)
        return nums.check_int(r, oid)
    return f


def _lcm(oid):
    def f(a, b):
        if a == 0 or b == 0:
            return 0
        return nums.check_int(abs(a * b) // math.gcd(a, b), oid)
    return f


def _num_gcd(a: Decimal, b: Decimal) -> Decimal:
    if a.is_nan() or b.is_nan():
        return nums.NAN
    scale = max(nums.dscale(a), nums.dscale(b))
    ia = int(a.scaleb(scale))
    ib = int(b.scaleb(scale))
    return nums.norm(Decimal(math.gcd(ia, ib)).scaleb(-scale).quantize(
        Decimal((0, (1,), -scale))))


def _num_lcm(a: Decimal, b: Decimal) -> Decimal:
    if a.is_nan() or b.is_nan():
        return nums.NAN
    if a.is_zero() or b.is_zero():
        return Decimal(0).quantize(Decimal((0, (1,), -max(nums.dscale(a), nums.dscale(b)))))
    g = _num_gcd(a, b)
    return nums.norm(abs(nums.EXACT.multiply(nums.EXACT.divide(a, g), b)).quantize(
        Decimal((0, (1,), -max(nums.dscale(a), nums.dscale(b)))), context=nums.EXACT))


def _int_mod(oid):
    def f(a, b):
        if b == 0:
            raise DivisionByZero("division by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return f


def _width_bucket_float(op, lo, hi, count):
    if count <= 0:
        raise nums.InvalidArgumentForWidthBucket("count must be greater than zero")
    if lo == hi:
        raise nums.InvalidArgumentForWidthBucket("lower bound cannot equal upper bound")
    if math.isnan(op) or math.isnan(lo) or math.isnan(hi):
        raise nums.InvalidArgumentForWidthBucket(
            "operand, lower bound, and upper bound cannot be NaN")
    if math.isinf(lo) or math.isinf(hi):
        raise nums.InvalidArgumentForWidthBucket("lower and upper bounds must be finite")
    if lo < hi:
        if op < lo:
            return 0
        if op >= hi:
            return count + 1
        return int((op - lo) / (hi - lo) * count) + 1
    if op > lo:
        return 0
    if op <= hi:
        return count + 1
    return int((lo - op) / (lo - hi) * count) + 1


def _width_bucket_numeric(op, lo, hi, count):
    if count <= 0:
        raise nums.InvalidArgumentForWidthBucket("count must be greater than zero")
    if any(x.is_nan() for x in (op, lo, hi)):
        raise nums.InvalidArgumentForWidthBucket(
            "operand, lower bound, and upper bound cannot be NaN")
    if lo == hi:
        raise nums.InvalidArgumentForWidthBucket("lower bound cannot equal upper bound")
    if lo.is_infinite() or hi.is_infinite():
        raise nums.InvalidArgumentForWidthBucket("lower and upper bounds must be finite")
    c = nums.EXACT
    if lo < hi:
        if op < lo:
            return 0
        if op >= hi:
            return count + 1
        return int(c.divide_int(c.multiply(c.subtract(op, lo), count), c.subtract(hi, lo))) + 1
    if op > lo:
        return 0
    if op <= hi:
        return count + 1
    return int(c.divide_int(c.multiply(c.subtract(lo, op), count), c.subtract(lo, hi))) + 1


def _numeric_exp(x: Decimal) -> Decimal:
    """PostgreSQL's exp_var refuses |x| >= 6000 outright: overflow above, 0 below."""
    if x.is_finite() and x >= 6000:
        raise NumericValueOutOfRange("value overflows numeric format")
    return nums.numeric_exp(x)


def _width_bucket_factory(ctx, params, elem):
    """width_bucket(operand, thresholds): how many thresholds are <= operand (binary
    search, as PostgreSQL: the thresholds must be sorted)."""
    key = sort_key(elem)

    def f(op, thresholds):
        if thresholds and isinstance(thresholds[0], list):
            raise ArraySubscriptError("thresholds must be one-dimensional array")
        if any(t is None for t in thresholds):
            raise NullValueNotAllowed("thresholds array must not contain NULLs")
        lo, hi, k = 0, len(thresholds), key(op)
        while lo < hi:
            mid = (lo + hi) // 2
            if k >= key(thresholds[mid]):
                lo = mid + 1
            else:
                hi = mid
        return lo
    return f


def _trig(f, domain=None):
    def g(x):
        if math.isnan(x):
            return x
        if domain and not domain(x):
            from ..errors import NumericValueOutOfRange as _E
            raise _E("input is out of range")
        try:
            return f(x)
        except ValueError:
            raise NumericValueOutOfRange("input is out of range") from None
    return g


def _random_factory(ctx, params, elem):
    return lambda: ctx.rng.random()


def _setseed_factory(ctx, params, elem):
    def setseed(x):
        if not -1.0 <= x <= 1.0:
            from ..errors import InvalidParameterValue
            raise InvalidParameterValue(f"setseed parameter {x} is out of allowed range "
                                        "[-1,1]")
        ctx.rng.seed(x)
        return None
    return setseed


def _scale(x: Decimal):
    return None if not x.is_finite() else nums.dscale(x)


def _trim_scale(x: Decimal):
    if not x.is_finite():
        return x
    if x.is_zero():
        return Decimal(0)
    t = x.normalize(nums.EXACT)
    return nums.norm(t)


def _min_scale(x: Decimal):
    if not x.is_finite():
        return None
    return nums.dscale(_trim_scale(x))


def _factorial(n):
    if n < 0:
        raise NumericValueOutOfRange("factorial of a negative number is undefined")
    if n > 32177:
        raise NumericValueOutOfRange("value overflows numeric format")
    return Decimal(math.factorial(n))


def _reg_all():
    r = register
    for t in (I2, I4, I8):
        r("abs", (t,), t, _int_abs(t.oid))
        r("mod", (t, t), t, _int_mod(t.oid))
    for t in (I4, I8):
        r("gcd", (t, t), t, _gcd(t.oid))
        r("lcm", (t, t), t, _lcm(t.oid))
    r("gcd", (N, N), N, _num_gcd)
    r("lcm", (N, N), N, _num_lcm)
    r("abs", (F4,), F4, abs)
    r("abs", (F8,), F8, abs)
    r("abs", (N,), N, abs)
    r("mod", (N, N), N, nums.numeric_mod)
    r("div", (N, N), N, nums.numeric_div_trunc)
    for name in ("ceil", "ceiling"):
        r(name, (F8,), F8, lambda x: x if math.isnan(x) or math.isinf(x) else
          float(math.ceil(x)))
        r(name, (N,), N, nums.numeric_ceil)
    r("floor", (F8,), F8, lambda x: x if math.isnan(x) or math.isinf(x) else
      float(math.floor(x)))
    r("floor", (N,), N, nums.numeric_floor)
    r("round", (F8,), F8, _round_float)
    r("round", (N,), N, nums.numeric_round)
    r("round", (N, I4), N, nums.numeric_round)
    r("trunc", (F8,), F8, _trunc_float)
    r("trunc", (N,), N, nums.numeric_trunc)
    r("trunc", (N, I4), N, nums.numeric_trunc)
    for name in ("power", "pow"):
        r(name, (F8, F8), F8, float_pow)
        r(name, (N, N), N, nums.numeric_power)
    r("sqrt", (F8,), F8, _sqrt)
    r("sqrt", (N,), N, nums.numeric_sqrt)
    r("cbrt", (F8,), F8, _cbrt)
    r("exp", (F8,), F8, _exp)
    r("exp", (N,), N, _numeric_exp)
    r("ln", (F8,), F8, _ln)
    r("ln", (N,), N, nums.numeric_ln)
    r("log", (F8,), F8, _log10)
    r("log10", (F8,), F8, _log10)
    r("log", (N,), N, lambda x: nums.numeric_log(Decimal(10), x))
    r("log10", (N,), N, lambda x: nums.numeric_log(Decimal(10), x))
    r("log", (N, N), N, nums.numeric_log)
    r("sign", (F8,), F8, _sign_float)
    r("sign", (N,), N, _sign_numeric)
    r("pi", (), F8, lambda: math.pi)
    r("random", (), F8, _random_factory, volatile=True, needs_ctx=True)
    r("setseed", (F8,), T.VOID, _setseed_factory, volatile=True, needs_ctx=True)
    r("degrees", (F8,), F8, math.degrees)
    r("radians", (F8,), F8, math.radians)
    r("sin", (F8,), F8, _trig(math.sin, lambda x: not math.isinf(x)))
    r("cos", (F8,), F8, _trig(math.cos, lambda x: not math.isinf(x)))
    r("tan", (F8,), F8, _trig(math.tan, lambda x: not math.isinf(x)))
    r("cot", (F8,), F8, _trig(lambda x: 1.0 / math.tan(x) if math.tan(x) != 0 else math.inf))
    r("asin", (F8,), F8, _trig(math.asin, lambda x: -1 <= x <= 1))
    r("acos", (F8,), F8, _trig(math.acos, lambda x: -1 <= x <= 1))
    r("atan", (F8,), F8, _trig(math.atan))
    r("atan2", (F8, F8), F8, math.atan2)
    r("sinh", (F8,), F8, math.sinh)
    r("cosh", (F8,), F8, math.cosh)
    r("tanh", (F8,), F8, math.tanh)
    r("width_bucket", (F8, F8, F8, I4), I4, _width_bucket_float)
    r("width_bucket", (N, N, N, I4), I4, _width_bucket_numeric)
    r("width_bucket", (ANYCOMPATIBLE, ANYCOMPATIBLEARRAY), I4, _width_bucket_factory,
      needs_ctx=True)
    r("scale", (N,), I4, _scale)
    r("min_scale", (N,), I4, _min_scale)
    r("trim_scale", (N,), N, _trim_scale)
    r("factorial", (I8,), N, _factorial)


_reg_all()
