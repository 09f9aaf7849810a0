"""Numbers the way PostgreSQL 15 reads, prints and computes them.

Why a module of its own: PostgreSQL's numeric results carry a *display scale* chosen by
rules of its own (1::numeric/3 has 20 decimals, sqrt(2::numeric) 15, avg(1,2) 16), floats
print as the shortest round-trip digits in PostgreSQL's notation ('1e+20', not '1e20'),
and float -> int rounds half to even while numeric -> int rounds half away from zero. The
casts, operators, functions and aggregates all share these rules, so they live here once.

numeric values are decimal.Decimal whose exponent is the negated display scale (never
positive: 1e2 is Decimal('100')); NaN and +/-Infinity are Decimal's own.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    InvalidOperation,
)

from ..errors import (
    DataError,
    DivisionByZero,
    FeatureNotSupported,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
)


# SQLSTATEs PostgreSQL raises here that immusql.errors lacks (to be moved there).
class InvalidArgumentForLog(DataError, sqlstate="2201E"):
    pass


class InvalidArgumentForPower(DataError, sqlstate="2201F"):
    pass


class InvalidArgumentForWidthBucket(DataError, sqlstate="2201G"):
    pass


class SubstringError(DataError, sqlstate="22011"):
    pass


class UntranslatableCharacter(DataError, sqlstate="22P05"):
    pass


class CharacterNotInRepertoire(DataError, sqlstate="22021"):
    pass


class InvalidTimeZoneDisplacement(DataError, sqlstate="22009"):
    pass


class IntervalFieldOverflow(DataError, sqlstate="22015"):
    pass


class InvalidEscapeCharacter(DataError, sqlstate="22019"):
    pass

# exact arithmetic for + - * (results fit: precision is unbounded for practical purposes)
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, rounding=ROUND_HALF_UP)
MIN_SIG_DIGITS = 16  # NUMERIC_MIN_SIG_DIGITS
MAX_DISPLAY_SCALE = 1000
NAN = Decimal("NaN")
DEC_INF = Decimal("Infinity")
DEC_NEG_INF = Decimal("-Infinity")
FLOAT4_MAX = struct.unpack("f", b"\xff\xff\x7f\x7f")[0]

_TYPE_LABEL = {21: "smallint", 23: "integer", 20: "bigint"}
INT_BOUNDS = {21: (-(1 << 15), (1 << 15) - 1), 23: (-(1 << 31), (1 << 31) - 1),
              20: (-(1 << 63), (1 << 63) - 1)}

# ------------------------------------------------------------------------------ input --

_INT_RE = re.compile(r"[ \t\n\r\f\v]*([+-]?)([0-9]+)[ \t\n\r\f\v]*\Z")
_NUM_RE = re.compile(r"\s*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*\Z")
_FLOAT_SPECIAL = {"nan": math.nan, "infinity": math.inf, "+infinity": math.inf,
                  "-infinity": -math.inf, "inf": math.inf, "+inf": math.inf,
                  "-inf": -math.inf, "+nan": math.nan, "-nan": math.nan}
_NUM_SPECIAL = {"nan": NAN, "infinity": DEC_INF, "+infinity": DEC_INF, "inf": DEC_INF,
                "+inf": DEC_INF, "-infinity": DEC_NEG_INF, "-inf": DEC_NEG_INF}
_HEX_FLOAT_RE = re.compile(r"\s*[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                           r"(?:[pP][+-]?[0-9]+)?\s*\Z")


def parse_int(text: str, oid: int) -> int:
    """int2/int4/int8 input: optional whitespace around an optionally signed decimal."""
    label = _TYPE_LABEL[oid]
    m = _INT_RE.match(text)
    if not m:
        raise InvalidTextRepresentation(f'invalid input syntax for type {label}: "{text}"')
    v = int(m.group(2))
    if m.group(1) == "-":
        v = -v
    lo, hi = INT_BOUNDS[oid]
    if not lo <= v <= hi:
        raise NumericValueOutOfRange(f'value "{text}" is out of range for type {label}')
    return v


def parse_float(text: str, oid: int = 701) -> float:
    """float4/float8 input (strtod's syntax: decimal, hex, inf/infinity/nan)."""
    label = "real" if oid == 700 else "double precision"
    s = text.strip()
    special = _FLOAT_SPECIAL.get(s.lower())
    if special is not None:
        return special
    if _NUM_RE.match(text):
        v = float(s)
        nonzero = any(c in "123456789" for c in s.split("e")[0].split("E")[0])
    elif _HEX_FLOAT_RE.match(text):
        neg = s.startswith("-")
        v = float.fromhex(s.lstrip("+-"))
        v = -v if neg else v
        nonzero = v != 0
    else:
        raise InvalidTextRepresentation(f'invalid input syntax for type {label}: "{text}"')
    if oid == 700 and not math.isinf(v):
        if abs(v) > FLOAT4_MAX * (1 + 2 ** -25):
            v = math.inf
        else:
            v = to_float4(v)
    if math.isinf(v) or (v == 0 and nonzero):
        raise NumericValueOutOfRange(f'"{text}" is out of range for type {label}')
    return v


def parse_numeric(text: str) -> Decimal:
    """numeric input: decimal with optional exponent, NaN, [+-]Infinity."""
    m = _NUM_RE.match(text)
    if not m:
        special = _NUM_SPECIAL.get(text.strip().lower())
        if special is not None:
            return special
        raise InvalidTextRepresentation(f'invalid input syntax for type numeric: "{text}"')
    d = Decimal(m.group(1))
    if d.adjusted() >= 131072:
        raise NumericValueOutOfRange("value overflows numeric format")
    return norm(d)


def norm(d: Decimal) -> Decimal:
    """Our canonical numeric: exponent <= 0 (display scale = -exponent), no negative zero,
    at most 16383 digits after the point."""
    if not d.is_finite():
        return NAN if d.is_nan() else d
    if d.adjusted() >= 131072:  # PostgreSQL's limit: 131072 digits before the point
        raise NumericValueOutOfRange("value overflows numeric format")
    exp = d.as_tuple().exponent
    if exp > 0:
        d = d.quantize(Decimal(1), context=EXACT)
    elif exp < -16383:
        d = d.quantize(Decimal((0, (1,), -16383)), rounding=ROUND_HALF_UP, context=EXACT)
    if d.is_zero() and d.is_signed():
        d = d.copy_abs()
    return d


def to_float4(v: float) -> float:
    """Round a double to the nearest float4 (raises OverflowError past its range)."""
    return struct.unpack("f", struct.pack("f", v))[0]


# ----------------------------------------------------------------------------- output --


def _sci_or_fixed(digits: str, exp10: int, neg: bool, fixed_max: int) -> str:
    """Ryu's formatting as PostgreSQL configures it: fixed notation when
    -4 <= exponent < fixed_max, else d.ddde+XX."""
    sign = "-" if neg else ""
    if -4 <= exp10 < fixed_max:
        n = len(digits)
        if exp10 < 0:
            return sign + "0." + "0" * (-exp10 - 1) + digits
        if exp10 + 1 >= n:
            return sign + digits + "0" * (exp10 + 1 - n)
        return sign + digits[:exp10 + 1] + "." + digits[exp10 + 1:]
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"


def _special_float(v: float) -> str | None:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    return None


def _on_boundary(text: str, v: float, nxt) -> bool:
    """Is the decimal `text` exactly halfway between v and a neighbour? PostgreSQL's Ryu
    does not accept such boundary strings, although they read back as v."""
    from fractions import Fraction
    d = Fraction(text)
    fv = Fraction(v)
    for n in (nxt(v, -1), nxt(v, 1)):
        if not math.isinf(n) and d == (fv + Fraction(n)) / 2:
            return True
    return False


def _next64(v: float, direction: int) -> float:
    return math.nextafter(v, math.inf if direction > 0 else -math.inf)


def _next32(v: float, direction: int) -> float:
    bits = struct.unpack("<I", struct.pack("<f", v))[0]
    bits += direction if v > 0 else -direction
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def _digits_exp(txt: str) -> tuple[str, int]:
    """'1.2300e+05' -> ('123', 5)."""
    mant, _, e = txt.partition("e")
    return mant.replace(".", "").rstrip("0") or "0", int(e)


def format_float8(v: float) -> str:
    """float8out with extra_float_digits = 1: shortest round-trip digits (Ryu)."""
    s = _special_float(v)
    if s is not None:
        return s
    a = abs(v)
    r = repr(a)  # shortest round-trip (David Gay), e.g. '1e+20', '0.1', '123.0'
    digits, exp10 = _digits_exp(f"{float(r):.{_sig_digits(r) - 1}e}")
    if len(digits) >= 15 and _on_boundary(r, a, _next64):
        for p in range(len(digits) + 1, 18):
            txt = f"{a:.{p - 1}e}"
            if float(txt) == a and not _on_boundary(txt, a, _next64):
                break
        digits, exp10 = _digits_exp(txt)
    return _sci_or_fixed(digits, exp10, v < 0, 15)


def _sig_digits(r: str) -> int:
    mant = r.partition("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return max(len(mant), 1)


def format_float4(v: float) -> str:
    """float4out: the shortest digits that read back as the same float4."""
    s = _special_float(v)
    if s is not None:
        return s
    a = abs(v)
    for p in range(1, 10):
        txt = f"{a:.{p - 1}e}"
        try:
            if to_float4(float(txt)) == a and not _on_boundary(txt, a, _next32):
                break
        except OverflowError:
            continue
    digits, exp10 = _digits_exp(txt)
    return _sci_or_fixed(digits, exp10, v < 0, 6)


def format_numeric(d: Decimal) -> str:
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "Infinity" if d > 0 else "-Infinity"
    s = format(d, "f")
    if d.is_zero() and s.startswith("-"):
        s = s[1:]
    return s


# ------------------------------------------------------------------ range / conversion --


def check_int(v: int, oid: int) -> int:
    lo, hi = INT_BOUNDS[oid]
    if not lo <= v <= hi:
        raise NumericValueOutOfRange(f"{_TYPE_LABEL[oid]} out of range")
    return v


def float_to_int(v: float, oid: int) -> int:
    """float -> integer: rint() (round half to even) with a range check."""
    if math.isnan(v) or math.isinf(v):
        raise NumericValueOutOfRange(f"{_TYPE_LABEL[oid]} out of range")
    return check_int(round(v), oid)


def numeric_to_int(d: Decimal, oid: int) -> int:
    """numeric -> integer: round half away from zero; NaN/Infinity are 0A000."""
    if d.is_nan():
        raise FeatureNotSupported(f"cannot convert NaN to {_TYPE_LABEL[oid]}")
    if d.is_infinite():
        raise FeatureNotSupported(f"cannot convert infinity to {_TYPE_LABEL[oid]}")
    return check_int(int(d.to_integral_value(rounding=ROUND_HALF_UP, context=EXACT)), oid)


def float_to_numeric(v: float, oid: int = 701) -> Decimal:
    """float8 -> numeric keeps DBL_DIG (15) significant digits, float4 FLT_DIG (6)."""
    if math.isnan(v):
        return NAN
    if math.isinf(v):
        return DEC_INF if v > 0 else DEC_NEG_INF
    digits = 15 if oid == 701 else 6
    return norm(Decimal(f"{v:.{digits}g}"))


def numeric_to_float(d: Decimal, oid: int = 701) -> float:
    v = float(d)
    if oid == 700 and d.is_finite():
        if abs(v) > FLOAT4_MAX * (1 + 2 ** -25):
            raise NumericValueOutOfRange("value out of range: overflow")
        v2 = to_float4(v)
        if v2 == 0 and not d.is_zero():
            raise NumericValueOutOfRange("value out of range: underflow")
        return v2
    if math.isinf(v) and d.is_finite():
        raise NumericValueOutOfRange("value out of range: overflow")
    return v


def float8_to_float4(v: float) -> float:
    if math.isnan(v) or math.isinf(v):
        return v
    if abs(v) > FLOAT4_MAX * (1 + 2 ** -25):
        raise NumericValueOutOfRange("value out of range: overflow")
    r = to_float4(v)
    if r == 0 and v != 0:
        raise NumericValueOutOfRange("value out of range: underflow")
    return r


def check_float(v: float, oid: int, inputs_inf: bool, inputs_zero: bool = True) -> float:
    """PostgreSQL's float_overflow/underflow checks after an arithmetic operation."""
    if oid == 700 and not math.isinf(v) and not math.isnan(v):
        if abs(v) > FLOAT4_MAX * (1 + 2 ** -25):
            v = math.copysign(math.inf, v)
        else:
            v = to_float4(v)
    if math.isinf(v) and not inputs_inf:
        raise NumericValueOutOfRange("value out of range: overflow")
    if v == 0 and not inputs_zero:
        raise NumericValueOutOfRange("value out of range: underflow")
    return v


def apply_numeric_typmod(d: Decimal, precision: int, scale: int) -> Decimal:
    """numeric(p,s): round half away from zero to s decimals, then overflow check."""
    if d.is_nan():
        return d
    if d.is_infinite():
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} cannot hold an "
                   "infinite value.")
    r = d.quantize(Decimal((0, (1,), -scale)), rounding=ROUND_HALF_UP, context=EXACT)
    if not r.is_zero() and r.adjusted() >= precision - scale:
        limit = precision - scale
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} must round to an "
                   f"absolute value less than {'1' if limit <= 0 else '10^' + str(limit)}."
            if limit > 0 else
            f"A field with precision {precision}, scale {scale} must round to an absolute "
            f"value less than 10^{limit}.")
    if scale < 0:
        r = r.quantize(Decimal(1), context=EXACT)
    return norm(r)


# ------------------------------------------------------------------ numeric arithmetic --


def dscale(d: Decimal) -> int:
    return max(0, -d.as_tuple().exponent) if d.is_finite() else 0


def nbase_weight_first(d: Decimal) -> tuple[int, int]:
    """PostgreSQL's base-10000 weight and first digit of a normalised nonzero numeric."""
    if d.is_zero():
        return 0, 0
    a = abs(d)
    w = a.adjusted() // 4
    first = int(a.scaleb(-4 * w, context=EXACT))
    return w, first


def _nbase_digits2(d: Decimal) -> tuple[int, int, int]:
    """(first two base-10000 digits as one number, their decimal weight, ndigits) as
    estimate_ln_dweight reads them."""
    a = abs(d)
    w = a.adjusted() // 4
    scaled = a.scaleb(-4 * w, context=EXACT)  # 1 <= scaled < 10000
    first = int(scaled)
    rest = scaled - first
    if rest.is_zero():
        return first, w * 4, 1
    second = int(rest.scaleb(4, context=EXACT))
    return first * 10000 + second, w * 4 - 4, 2


def round_half_away(num: int, den: int) -> int:
    """num/den rounded half away from zero (den != 0)."""
    neg = (num < 0) != (den < 0)
    q, r = divmod(abs(num), abs(den))
    if 2 * r >= abs(den):
        q += 1
    return -q if neg else q


def quantize_half_up(value: Decimal, scale: int) -> Decimal:
    return norm(value.quantize(Decimal((0, (1,), -scale)), rounding=ROUND_HALF_UP,
                               context=EXACT))


def div_exact_scale(x: Decimal, y: Decimal, rscale: int) -> Decimal:
    """x / y rounded half away from zero to rscale decimals, exactly."""
    xt = x.as_tuple()
    yt = y.as_tuple()
    a = int("".join(map(str, xt.digits)) or "0") * (-1 if xt.sign else 1)
    b = int("".join(map(str, yt.digits)) or "0") * (-1 if yt.sign else 1)
    k = xt.exponent - yt.exponent + rscale
    if k >= 0:
        q = round_half_away(a * 10 ** k, b)
    else:
        q = round_half_away(a, b * 10 ** -k)
    return norm(Decimal(q).scaleb(-rscale, context=EXACT))


def select_div_scale(x: Decimal, y: Decimal) -> int:
    w1, f1 = nbase_weight_first(x)
    w2, f2 = nbase_weight_first(y)
    qweight = w1 - w2
    if f1 <= f2:
        qweight -= 1
    rscale = MIN_SIG_DIGITS - qweight * 4
    return min(max(rscale, dscale(x), dscale(y), 0), MAX_DISPLAY_SCALE)


def numeric_div(x: Decimal, y: Decimal) -> Decimal:
    if x.is_nan() or y.is_nan():
        return NAN
    if y.is_zero():
        raise DivisionByZero("division by zero")
    if x.is_infinite():
        if y.is_infinite():
            return NAN
        return DEC_INF if (x > 0) == (y > 0) else DEC_NEG_INF
    if y.is_infinite():
        return Decimal(0)
    return div_exact_scale(x, y, select_div_scale(x, y))


def numeric_div_trunc(x: Decimal, y: Decimal) -> Decimal:
    """div(x, y): integral quotient truncated toward zero."""
    if x.is_nan() or y.is_nan():
        return NAN
    if y.is_zero():
        raise DivisionByZero("division by zero")
    if x.is_infinite() or y.is_infinite():
        if x.is_infinite() and y.is_infinite():
            return NAN
        if x.is_infinite():
            return DEC_INF if (x > 0) == (y > 0) else DEC_NEG_INF
        return Decimal(0)
    return norm(EXACT.divide_int(x, y))  # Decimal // truncates toward zero


def numeric_mod(x: Decimal, y: Decimal) -> Decimal:
    if x.is_nan() or y.is_nan():
        return NAN
    if y.is_zero():
        raise DivisionByZero("division by zero")
    if x.is_infinite():
        return NAN
    if y.is_infinite():
        return x
    return norm(EXACT.remainder(x, y))


def numeric_add(x, y):
    if x.is_nan() or y.is_nan():
        return NAN
    if x.is_infinite() and y.is_infinite() and x != y:
        return NAN
    return norm(EXACT.add(x, y))


def numeric_sub(x, y):
    if x.is_nan() or y.is_nan():
        return NAN
    if x.is_infinite() and y.is_infinite() and x == y:
        return NAN
    return norm(EXACT.subtract(x, y))


def numeric_mul(x, y):
    if x.is_nan() or y.is_nan():
        return NAN
    if (x.is_infinite() and y.is_zero()) or (y.is_infinite() and x.is_zero()):
        return NAN
    return norm(EXACT.multiply(x, y))


def _ctx(digits: int) -> Context:
    return Context(prec=max(digits, 30), Emax=MAX_EMAX, Emin=MIN_EMIN, rounding=ROUND_HALF_EVEN)


def _digits_needed(approx_log10: float, rscale: int) -> int:
    return int(max(approx_log10, 0)) + rscale + 12


def numeric_sqrt(x: Decimal) -> Decimal:
    if x.is_nan():
        return NAN
    if x < 0:
        raise InvalidArgumentForPower("cannot take square root of a negative number")
    if x.is_infinite():
        return x
    w = nbase_weight_first(x)[0] if not x.is_zero() else 0
    sweight = (w + 1) * 4 // 2 - 1
    rscale = min(max(MIN_SIG_DIGITS - sweight, dscale(x), 0), MAX_DISPLAY_SCALE)
    r = x.sqrt(context=_ctx(_digits_needed(x.adjusted() / 2 if not x.is_zero() else 0,
                                           rscale)))
    return quantize_half_up(r, rscale)


def estimate_ln_dweight(x: Decimal) -> int:
    if x <= 0:
        return 0
    if Decimal("0.9") <= x <= Decimal("1.1"):
        d = x - 1
        return 0 if d.is_zero() else d.adjusted()
    digits, dweight, _ = _nbase_digits2(x)
    ln_var = math.log(digits) + dweight * 2.302585092994046
    return int(math.log10(abs(ln_var))) if ln_var != 0 else 0


def numeric_ln(x: Decimal) -> Decimal:
    if x.is_nan():
        return NAN
    if x.is_zero():
        raise InvalidArgumentForLog("cannot take logarithm of zero")
    if x < 0:
        raise InvalidArgumentForLog("cannot take logarithm of a negative number")
    if x.is_infinite():
        return x
    rscale = min(max(MIN_SIG_DIGITS - estimate_ln_dweight(x), dscale(x), 0), MAX_DISPLAY_SCALE)
    return quantize_half_up(x.ln(context=_ctx(rscale + 20)), rscale)


def numeric_log(base: Decimal, x: Decimal) -> Decimal:
    if base.is_nan() or x.is_nan():
        return NAN
    for v in (base, x):
        if v.is_zero():
            raise InvalidArgumentForLog("cannot take logarithm of zero")
        if v < 0:
            raise InvalidArgumentForLog("cannot take logarithm of a negative number")
    if base == 1:
        raise DivisionByZero("division by zero")
    rscale = MIN_SIG_DIGITS - (estimate_ln_dweight(x) - estimate_ln_dweight(base))
    rscale = min(max(rscale, dscale(base), dscale(x), 0), MAX_DISPLAY_SCALE)
    c = _ctx(rscale + 40)
    return quantize_half_up(c.divide(x.ln(context=c), base.ln(context=c)), rscale)


def numeric_exp(x: Decimal) -> Decimal:
    if x.is_nan():
        return NAN
    if x.is_infinite():
        return x if x > 0 else Decimal(0)
    val = float(x) * 0.434294481903252
    val = max(min(val, 3000), -3000)
    rscale = min(max(MIN_SIG_DIGITS - int(val), dscale(x), 0), MAX_DISPLAY_SCALE)
    if val > 131072:
        raise NumericValueOutOfRange("value overflows numeric format")
    return quantize_half_up(x.exp(context=_ctx(_digits_needed(val, rscale))), rscale)


def numeric_power(base: Decimal, exp: Decimal) -> Decimal:
    if base.is_nan() or exp.is_nan():
        if (base.is_nan() and exp.is_zero()) or (exp.is_nan() and base == 1):
            return Decimal(1)
        return NAN
    if base.is_zero() and exp < 0:
        raise InvalidArgumentForPower(
            "zero raised to a negative power is undefined")
    if base < 0 and exp.is_finite() and exp != exp.to_integral_value():
        raise InvalidArgumentForPower(
            "a negative number raised to a non-integer power yields a complex result")
    if base.is_infinite() or exp.is_infinite():
        return norm(Decimal(float(base) ** float(exp)).quantize(Decimal(1))) \
            if not math.isnan(float(base) ** float(exp)) else NAN
    if exp == exp.to_integral_value() and abs(exp) < 2 ** 31:
        n = int(exp)
        rscale = min(max(MIN_SIG_DIGITS, dscale(base), 0), MAX_DISPLAY_SCALE)
        if n >= 0:
            if base.is_zero() or abs(base.adjusted()) * n < 200000:
                return quantize_half_up(EXACT.power(base, n), rscale)
        else:
            p = EXACT.power(base, -n)
            return div_exact_scale(Decimal(1), p, rscale)
    if base.is_zero():
        return Decimal("0." + "0" * MIN_SIG_DIGITS)
    ln_dweight = estimate_ln_dweight(base)
    c = _ctx(60 + max(0, -ln_dweight))
    val = float(c.multiply(base.ln(context=c), exp)) * 0.434294481903252
    if val > 131072:
        raise NumericValueOutOfRange("value overflows numeric format")
    rscale = MIN_SIG_DIGITS - int(val)
    rscale = min(max(rscale, dscale(base), dscale(exp), 0), MAX_DISPLAY_SCALE)
    c = _ctx(_digits_needed(val, rscale) + 10)
    r = c.power(base, exp)
    return quantize_half_up(r, rscale)


def numeric_round(x: Decimal, scale: int = 0) -> Decimal:
    """round(numeric, s): half away from zero; the result keeps max(s, 0) decimals."""
    if not x.is_finite():
        return x
    scale = max(min(scale, MAX_DISPLAY_SCALE), -MAX_DISPLAY_SCALE)
    r = x.quantize(Decimal((0, (1,), -scale)), rounding=ROUND_HALF_UP, context=EXACT)
    return norm(r.quantize(Decimal((0, (1,), -max(scale, 0))), context=EXACT))


def numeric_trunc(x: Decimal, scale: int = 0) -> Decimal:
    if not x.is_finite():
        return x
    r = x.quantize(Decimal((0, (1,), -scale)), rounding="ROUND_DOWN", context=EXACT)
    return norm(r.quantize(Decimal((0, (1,), -max(scale, 0))), context=EXACT))


def numeric_floor(x: Decimal) -> Decimal:
    if not x.is_finite():
        return x
    return norm(x.to_integral_value(rounding=ROUND_FLOOR, context=EXACT))


def numeric_ceil(x: Decimal) -> Decimal:
    if not x.is_finite():
        return x
    return norm(x.to_integral_value(rounding="ROUND_CEILING", context=EXACT))


def numeric_cmp_key(d: Decimal):
    """Sort key: NaN equals NaN and sorts above everything (PostgreSQL)."""
    if d.is_nan():
        return (2, 0)
    return (1, d)


def float_cmp_key(v: float):
    if v != v:
        return (2, 0.0)
    return (1, v)


def safe_decimal(v) -> Decimal:
    try:
        return Decimal(v)
    except InvalidOperation:  # pragma: no cover - defensive
        raise InvalidTextRepresentation(f'invalid input syntax for type numeric: "{v}"') \
            from None
