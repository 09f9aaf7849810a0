"""to_char / to_timestamp / to_date template formatting (PostgreSQL's formatting.c).

Why: reports and tests use to_char heavily and compare text exactly, including its odd
padding ('Tuesday  ' is padded to 9, to_char(-12, '999') is ' -12'). This covers the
common template patterns; rarely used ones (roman numerals for numbers, 'V', 'L' currency,
Julian day parsing, 'Y,YYY' input) are not implemented and raise FeatureNotSupported or
are copied literally.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from ..errors import (
    DatetimeFieldOverflow,
    FeatureNotSupported,
    InvalidDatetimeFormat,
    InvalidTextRepresentation,
)
from . import numerics as nums
from .types import InfiniteDatetime, Interval

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]

# longest first, so 'HH24' wins over 'HH'
_DT_PATTERNS = sorted("""HH24 HH12 HH MI SSSSS SSSS SS MS US FF1 FF2 FF3 FF4 FF5 FF6 AM PM A.M.
P.M. am pm a.m. p.m. Y,YYY YYYY YYY YY Y IYYY IYY IY I BC AD B.C. A.D. bc ad b.c. a.d.
MONTH Month month MON Mon mon MM DAY Day day DY Dy dy DDD IDDD DD D ID W WW IW CC J Q RM rm
TZH TZM TZ tz OF""".split(), key=len, reverse=True)


# numeric patterns that PostgreSQL also accepts in lower case (name patterns are
# case-sensitive because the case selects the output's capitalisation)
_CASELESS = frozenset("""HH24 HH12 HH MI SSSSS SSSS SS MS US FF1 FF2 FF3 FF4 FF5 FF6 Y,YYY
YYYY YYY YY Y IYYY IYY IY I MM DDD IDDD DD D ID W WW IW CC J Q TZH TZM OF""".split())


def _ordinal(n: int, upper: bool) -> str:
    if 10 <= n % 100 <= 20:
        s = "th"
    else:
        s = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return s.upper() if upper else s


def _tokenize(fmt: str):
    """[(kind, text, fm, th)] with kind 'pat' or 'lit'."""
    out = []
    i = 0
    n = len(fmt)
    while i < n:
        fm = False
        if fmt.startswith("FM", i) or fmt.startswith("fm", i):
            fm = True
            i += 2
        if fmt.startswith("FX", i):
            i += 2
            continue
        if i < n and fmt[i] == '"':
            j = i + 1
            buf = []
            while j < n and fmt[j] != '"':
                if fmt[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(fmt[j])
                j += 1
            out.append(("lit", "".join(buf), False, None))
            i = j + 1
            continue
        if i < n and fmt[i] == "\\" and i + 1 < n:
            out.append(("lit", fmt[i + 1], False, None))
            i += 2
            continue
        for p in _DT_PATTERNS:
            if fmt.startswith(p, i) or (p in _CASELESS and fmt[i:i + len(p)].upper() == p):
                i += len(p)
                th = None
                if fmt.startswith("TH", i):
                    th, i = "TH", i + 2
                elif fmt.startswith("th", i):
                    th, i = "th", i + 2
                out.append(("pat", p, fm, th))
                break
        else:
            if i < n:
                out.append(("lit", fmt[i], False, None))
                i += 1
    return out


def _case(name: str, pat: str) -> str:
    if pat.isupper():
        return name.upper()
    if pat[0].isupper():
        return name
    return name.lower()


def format_datetime(v, fmt: str, tzname: str | None = None, offset: dt.timedelta | None = None
                    ) -> str:
    """to_char(timestamp|timestamptz|date|interval, fmt). For timestamptz pass the
    local time as v plus the zone abbreviation and offset."""
    if isinstance(v, InfiniteDatetime):
        return None
    if isinstance(v, Interval):
        return _format_interval(v, fmt)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        v = dt.datetime(v.year, v.month, v.day)
    out = []
    for kind, p, fm, th in _tokenize(fmt):
        if kind == "lit":
            out.append(p)
            continue
        s, num = _dt_field(v, p, fm, tzname, offset)
        if th and num is not None:
            s += _ordinal(num, th == "TH")
        out.append(s)
    return "".join(out)


def _pad(n: int, width: int, fm: bool) -> str:
    if fm:
        return str(n)
    if n < 0:
        return "-" + str(-n).zfill(width)
    return str(n).zfill(width)


def _dt_field(v: dt.datetime, p: str, fm: bool, tzname, offset):
    up = p.upper()
    h12 = v.hour % 12 or 12
    if up in ("HH", "HH12"):
        return _pad(h12, 2, fm), h12
    if up == "HH24":
        return _pad(v.hour, 2, fm), v.hour
    if up == "MI":
        return _pad(v.minute, 2, fm), v.minute
    if up == "SS":
        return _pad(v.second, 2, fm), v.second
    if up == "MS":
        return _pad(v.microsecond // 1000, 3, fm), v.microsecond // 1000
    if up == "US":
        return _pad(v.microsecond, 6, fm), v.microsecond
    if up.startswith("FF"):
        k = int(up[2])
        return str(v.microsecond).zfill(6)[:k], None
    if up in ("SSSS", "SSSSS"):
        s = v.hour * 3600 + v.minute * 60 + v.second
        return str(s), s
    if up in ("AM", "PM", "A.M.", "P.M."):
        pm = v.hour >= 12
        word = ("P" if pm else "A") + ("M" if "." not in p else ".M.")
        if "." in p:
            word = ("P.M." if pm else "A.M.")
        return (word if p[0].isupper() else word.lower()), None
    if up in ("BC", "AD", "B.C.", "A.D."):
        word = "AD" if "." not in p else "A.D."
        return (word if p[0].isupper() else word.lower()), None
    if up == "Y,YYY":
        return f"{v.year // 1000},{v.year % 1000:03d}", v.year
    if up == "YYYY":
        return _pad(v.year, 4, fm), v.year
    if up == "YYY":
        return _pad(v.year % 1000, 3, fm), v.year % 1000
    if up == "YY":
        return _pad(v.year % 100, 2, fm), v.year % 100
    if up == "Y":
        return str(v.year % 10), v.year % 10
    iso = v.isocalendar()
    if up == "IYYY":
        return _pad(iso[0], 4, fm), iso[0]
    if up == "IYY":
        return _pad(iso[0] % 1000, 3, fm), None
    if up == "IY":
        return _pad(iso[0] % 100, 2, fm), None
    if up == "I":
        return str(iso[0] % 10), None
    if up == "MONTH":
        name = _case(MONTH_NAMES[v.month - 1], p)
        return (name if fm else name.ljust(9)), None
    if up == "MON":
        return _case(MONTH_NAMES[v.month - 1][:3], p), None
    if up == "MM":
        return _pad(v.month, 2, fm), v.month
    if up == "DAY":
        name = _case(DAY_NAMES[(v.weekday() + 1) % 7], p)
        return (name if fm else name.ljust(9)), None
    if up == "DY":
        return _case(DAY_NAMES[(v.weekday() + 1) % 7][:3], p), None
    if up == "DDD":
        d = v.timetuple().tm_yday
        return _pad(d, 3, fm), d
    if up == "IDDD":
        d = (iso[1] - 1) * 7 + iso[2]
        return _pad(d, 3, fm), d
    if up == "DD":
        return _pad(v.day, 2, fm), v.day
    if up == "D":
        d = (v.weekday() + 1) % 7 + 1
        return str(d), d
    if up == "ID":
        return str(iso[2]), iso[2]
    if up == "W":
        w = (v.day - 1) // 7 + 1
        return str(w), w
    if up == "WW":
        w = (v.timetuple().tm_yday - 1) // 7 + 1
        return _pad(w, 2, fm), w
    if up == "IW":
        return _pad(iso[1], 2, fm), iso[1]
    if up == "CC":
        c = (v.year + 99) // 100
        return _pad(c, 2, fm), c
    if up == "J":
        j = v.toordinal() + 1721425
        return str(j), j
    if up == "Q":
        q = (v.month - 1) // 3 + 1
        return str(q), q
    if up == "RM":
        r = ROMAN[v.month - 1]
        r = r if p == "RM" else r.lower()
        return (r if fm else r.ljust(4)), None
    if up in ("TZ",):
        name = tzname or ""
        return (name if p == "TZ" else name.lower()), None
    off = offset or dt.timedelta(0)
    secs = int(off.total_seconds())
    if up == "TZH":
        return ("-" if secs < 0 else "+") + f"{abs(secs) // 3600:02d}", None
    if up == "TZM":
        return f"{abs(secs) // 60 % 60:02d}", None
    if up == "OF":
        s = ("-" if secs < 0 else "+") + f"{abs(secs) // 3600:02d}"
        if abs(secs) // 60 % 60:
            s += f":{abs(secs) // 60 % 60:02d}"
        return s, None
    return p, None


def _format_interval(iv: Interval, fmt: str) -> str:
    us = iv.microseconds
    hours, rem = divmod(abs(us), 3_600_000_000)
    minutes, rem = divmod(rem, 60_000_000)
    secs, micro = divmod(rem, 1_000_000)
    sign = -1 if us < 0 else 1
    out = []
    for kind, p, fm, _th in _tokenize(fmt):
        if kind == "lit":
            out.append(p)
            continue
        up = p.upper()
        if up == "HH24":
            out.append(_pad(sign * hours, 2, fm))
        elif up in ("HH", "HH12"):
            h = hours % 12 or 12
            out.append(_pad(h, 2, fm))
        elif up == "MI":
            out.append(_pad(minutes, 2, fm))
        elif up == "SS":
            out.append(_pad(secs, 2, fm))
        elif up == "MS":
            out.append(_pad(micro // 1000, 3, fm))
        elif up == "US":
            out.append(_pad(micro, 6, fm))
        elif up == "DD":
            out.append(_pad(iv.days, 2, fm))
        elif up == "MM":
            out.append(_pad(iv.months % 12 if iv.months >= 0 else -((-iv.months) % 12), 2,
                            fm))
        elif up == "YYYY":
            out.append(_pad(int(iv.months / 12), 4, fm))
        else:
            out.append(p)
    return "".join(out)


# ------------------------------------------------------------------- numbers --

def format_number(value, fmt: str) -> str:
    """to_char(numeric|int|float, fmt) for the patterns 9 0 . , D G S MI PL SG PR FM
    EEEE TH."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            d = None
        else:
            d = Decimal(repr(value))
    elif isinstance(value, int):
        d = Decimal(value)
    else:
        d = value
    f = fmt
    fm = "FM" in f.upper()
    f = re.sub("(?i)fm", "", f)
    up = f.upper()
    if "RN" in up or "V" in up.replace("EEEE", ""):
        raise FeatureNotSupported(f'to_char format "{fmt}" is not supported')
    th = None
    if up.endswith("TH"):
        th = f[-2:]
        f = f[:-2]
        up = f.upper()
    if "EEEE" in up:
        return _format_sci(d, f, fm)
    sign_up = up  # the sign patterns are placed afterwards; lay out digits without them
    f = re.sub("(?i)SG|PL|MI|PR|S", "", f)
    up = f.upper()
    point = None
    for i, ch in enumerate(up):
        if ch in ".D":
            point = i
            break
    int_part = up if point is None else up[:point]
    frac_part = "" if point is None else up[point + 1:]
    n_int = sum(1 for c in int_part if c in "90")
    n_frac = sum(1 for c in frac_part if c in "90")
    if d is None or not d.is_finite():
        body = "#" * n_int + ("." + "#" * n_frac if point is not None else "")
        return " " + body
    neg = d < 0
    q = abs(d).quantize(Decimal((0, (1,), -n_frac)), rounding=ROUND_HALF_UP,
                        context=nums.EXACT)
    s = format(q, "f")
    ip, _, fp = s.partition(".")
    ip = ip.lstrip("0")
    if len(ip) > n_int:
        digits_int = "#" * n_int
        fp = "#" * n_frac
        overflow = True
    else:
        digits_int = ip.rjust(n_int, " ")
        overflow = False
    fp = fp.ljust(n_frac, "0")
    # integer section
    out = []
    k = 0
    started = False
    first_zero = None
    for idx, c in enumerate(int_part):
        if c == "0":
            first_zero = idx
            break
    for idx, c in enumerate(int_part):
        if c in "90":
            ch = digits_int[k]
            k += 1
            if ch == " ":
                if (first_zero is not None and idx >= first_zero) or (c == "0"):
                    ch = "0"
                    started = True
                out.append(ch)
            else:
                started = True
                out.append(ch)
        elif c in ",G":
            out.append("," if started else " ")
        elif c in ("S", "M", "I", "P", "L", "R"):
            out.append("\0" + c)  # sign markers handled below
        else:
            out.append(f[idx] if idx < len(f) else c)
    if n_int and not started and not overflow and q.is_zero() and (point is None or fm):
        # a zero value prints its last integer digit even where the pattern says '9'
        for idx in range(len(out) - 1, -1, -1):
            if out[idx] == " ":
                out[idx] = "0"
                break
    text_int = "".join(out)
    frac_out = []
    if point is not None:
        frac_out.append(".")
        k = 0
        for c in frac_part:
            if c in "90":
                frac_out.append(fp[k])
                k += 1
            elif c in ",G":
                frac_out.append(",")
    text = text_int + "".join(frac_out)
    if fm and point is not None:
        # FM drops trailing zeros that came from '9' positions
        kept = list(text)
        pos = len(kept) - 1
        fr = [c for c in frac_part if c in "90"]
        while fr and pos >= 0 and kept[pos] == "0" and fr[-1] == "9":
            kept.pop()
            fr.pop()
            pos -= 1
        text = "".join(kept)
    # sign: where it goes depends on the pattern (formatting.c's NUM_processor)
    if q.is_zero():
        neg = False
    text = re.sub(r"\0.", "", text)
    stripped = text.lstrip(" ")
    lead = len(text) - len(stripped)
    core = sign_up.replace("FM", "")
    anchor_start = core.startswith(("S", "MI", "PL", "SG"))
    minus = "-" if neg else " "
    if "PR" in core:
        text = (" " * lead + "<" + stripped + ">") if neg else (" " + text + " ")
    elif "SG" in core:
        sign = "-" if neg else "+"
        text = sign + text if anchor_start else text + sign
    elif "PL" in core:
        adj = " " * lead + minus + stripped
        text = ("+" if not neg else " ") + adj if anchor_start else adj + (
            "+" if not neg else " ")
    elif "MI" in core:
        text = minus + text if anchor_start else text + minus
    elif "S" in core:
        sign = "-" if neg else "+"
        text = (" " * lead + sign + stripped) if anchor_start else text + sign
    else:
        text = " " * lead + minus + stripped
    if fm:
        text = text.strip(" ")
    if th:
        n = int(abs(q))
        text += _ordinal(n, th == "TH")
    return text


def _format_sci(d, f, fm):
    up = f.upper().replace("EEEE", "")
    point = up.find(".")
    n_frac = 0 if point < 0 else sum(1 for c in up[point + 1:] if c in "90")
    if d is None or not d.is_finite():
        return " " + "#" * len(f)
    if d.is_zero():
        mant, exp = Decimal(0), 0
    else:
        exp = d.adjusted()
        mant = d.scaleb(-exp)
    m = abs(mant).quantize(Decimal((0, (1,), -n_frac)), rounding=ROUND_HALF_UP)
    if m >= 10:
        exp += 1
        m = (abs(mant) / 10).quantize(Decimal((0, (1,), -n_frac)), rounding=ROUND_HALF_UP)
    s = format(m, "f") + ("e%+03d" % exp)
    return ("-" if d < 0 else ("" if fm else " ")) + s


# ------------------------------------------------------------------- parsing --

_NUM_TOKENS = ("EEEE", "FM", "MI", "PL", "SG", "PR", "TH", "th", "9", "0", ".", "D", ",",
               "G", "S", "L", "V", "B")


def parse_number(text: str, fmt: str) -> Decimal:
    """to_number(text, fmt): the format and the input are walked together, as
    PostgreSQL's NUM_processor does: a digit position takes a digit if one is there
    (and a sign or blank before the first one), separators and the decimal point take
    their character if present, S/MI/PL/SG/PR read the sign, L skips a currency symbol.
    The result keeps the decimals read (at most the format's positions after the point)."""
    up = fmt.upper()
    if "EEEE" in up or "RN" in up or "V" in up:
        raise FeatureNotSupported(f'to_number format "{fmt}" is not supported')
    tokens, i = [], 0
    while i < len(fmt):
        tok = next((t for t in _NUM_TOKENS if fmt.startswith(t, i)
                    or fmt[i:i + len(t)].upper() == t), fmt[i])
        tokens.append(tok.upper())
        i += len(tok)
    n_frac = 0
    seen_point = False
    for tok in tokens:
        if tok in (".", "D"):
            seen_point = True
        elif tok in ("9", "0") and seen_point:
            n_frac += 1
    pos, n = 0, len(text)
    int_digits, frac_digits = [], []
    neg = in_frac = False
    started = False
    for tok in tokens:
        if tok in ("9", "0"):
            while not started and pos < n and text[pos] in " +-<":
                neg = neg or text[pos] in "-<"
                pos += 1
            if pos < n and text[pos].isdigit():
                (frac_digits if in_frac else int_digits).append(text[pos])
                started = True
                pos += 1
        elif tok in (".", "D"):
            in_frac = True
            if pos < n and text[pos] == ".":
                pos += 1
        elif tok in (",", "G"):
            if pos < n and text[pos] == ",":
                pos += 1
        elif tok in ("S", "MI", "PL", "SG"):
            if pos < n and text[pos] in "+-":
                neg = text[pos] == "-"
                pos += 1
        elif tok == "PR":
            if pos < n and text[pos] == ">":
                pos += 1
        elif tok == "L":
            while pos < n and not (text[pos].isdigit() or text[pos] in " +-.,"):
                pos += 1
        elif tok in ("FM", "TH", "B"):
            continue
        elif pos < n:
            pos += 1  # a literal of the format stands for one input character
    if not int_digits and not frac_digits:
        raise InvalidTextRepresentation('invalid input syntax for type numeric: " "')
    digits = "".join(int_digits) or "0"
    frac = "".join(frac_digits)[:n_frac]
    d = Decimal(f"{'-' if neg else ''}{digits}{'.' + frac if frac else ''}")
    return nums.norm(d)


def parse_datetime(text: str, fmt: str) -> tuple[dt.datetime, dt.timedelta | None]:
    """to_timestamp(text, fmt) / to_date: returns (naive datetime, zone offset or None)."""
    fields = {"year": None, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0,
              "us": 0, "pm": None, "tzh": None, "tzm": 0, "doy": None}
    i = 0
    s = text
    n = len(s)

    def skip_spaces():
        nonlocal i
        while i < n and s[i] == " ":
            i += 1

    def read_int(maxlen, sign=False):
        nonlocal i
        skip_spaces()
        j = i
        if sign and j < n and s[j] in "+-":
            j += 1
        while j < n and s[j].isdigit() and j - i < maxlen + (1 if sign else 0):
            j += 1
        if j == i or not s[i:j].lstrip("+-"):
            raise InvalidDatetimeFormat(f'invalid value "{s[i:i + maxlen]}" for "{pat}"',
                                        detail="Value must be an integer.")
        v = int(s[i:j])
        i = j
        return v

    for kind, pat, fm, _th in _tokenize(fmt):
        if kind == "lit":
            if pat == " ":
                skip_spaces()
            elif i < n and not s[i].isalnum():
                i += 1
            elif i < n and s[i] == pat:
                i += 1
            continue
        up = pat.upper()
        if up in ("YYYY", "IYYY"):
            fields["year"] = read_int(4 if not fm else 9)
        elif up == "Y,YYY":
            a = read_int(1)
            if i < n and s[i] == ",":
                i += 1
            fields["year"] = a * 1000 + read_int(3)
        elif up in ("YYY", "YY", "Y"):
            v = read_int(len(up))
            fields["year"] = (v + 2000 if v < 70 else v + 1900) if len(up) == 2 else v
        elif up == "MM":
            fields["month"] = read_int(2)
        elif up == "DD":
            fields["day"] = read_int(2)
        elif up == "DDD":
            fields["doy"] = read_int(3)
        elif up in ("HH", "HH12", "HH24"):
            fields["hour"] = read_int(2)
        elif up == "MI":
            fields["minute"] = read_int(2)
        elif up == "SS":
            fields["second"] = read_int(2)
        elif up == "MS":
            j = i
            v = read_int(3)
            fields["us"] = v * 10 ** (3 - (i - j)) * 1000 if i - j < 3 else v * 1000
        elif up in ("US", "FF6"):
            j = i
            v = read_int(6)
            fields["us"] = v * 10 ** (6 - (i - j))
        elif up in ("AM", "PM", "A.M.", "P.M."):
            skip_spaces()
            word = s[i:i + len(pat)].upper()
            fields["pm"] = word.startswith("P")
            i += len(pat)
        elif up in ("MONTH", "MON"):
            skip_spaces()
            for idx, name in enumerate(MONTH_NAMES):
                for cand in (name, name[:3]):
                    if s[i:i + len(cand)].lower() == cand.lower():
                        fields["month"] = idx + 1
                        i += len(cand)
                        break
                else:
                    continue
                break
            else:
                raise InvalidDatetimeFormat(f'invalid value "{s[i:i + 3]}" for "{pat}"',
                                            detail="The given value did not match any of the "
                                                   "allowed values for this field.")
        elif up in ("DAY", "DY"):
            skip_spaces()
            for name in DAY_NAMES:
                for cand in (name, name[:3]):
                    if s[i:i + len(cand)].lower() == cand.lower():
                        i += len(cand)
                        break
                else:
                    continue
                break
        elif up == "TZH":
            fields["tzh"] = read_int(2, sign=True)
        elif up == "TZM":
            fields["tzm"] = read_int(2)
        elif up == "TZ":
            raise FeatureNotSupported('formatting field "TZ" is only supported in to_char')
        else:
            raise FeatureNotSupported(f'to_timestamp pattern "{pat}" is not supported')
    year = fields["year"] if fields["year"] is not None else 1
    hour = fields["hour"]
    if fields["pm"] is not None:
        if hour > 12 or hour < 1:
            raise DatetimeFieldOverflow(f'hour "{hour}" is invalid for the 12-hour clock',
                                        hint="Use the 24-hour clock, or give an hour between "
                                             "1 and 12.")
        hour = hour % 12 + (12 if fields["pm"] else 0)
    try:
        if fields["doy"] is not None:
            base = dt.datetime(year, 1, 1) + dt.timedelta(days=fields["doy"] - 1)
        else:
            base = dt.datetime(year, fields["month"], fields["day"])
        value = base.replace(hour=hour, minute=fields["minute"], second=fields["second"],
                             microsecond=fields["us"])
    except ValueError:
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"') from None
    off = None
    if fields["tzh"] is not None:
        sign = -1 if fields["tzh"] < 0 or s.lstrip().startswith("-") else 1
        off = dt.timedelta(hours=fields["tzh"], minutes=sign * fields["tzm"])
    return value, off
