"""What is secret: the one place that decides, for names and for values.

Everything envstamp stores or prints that came from the user's environment, command line or
tools (environment values, URLs, command lines, probe details, recorded answers) passes
through here:

* :func:`is_secret_name` - a name (environment variable, command-line flag, query parameter,
  JSON or ``key=value`` key) that says it holds a secret: ``*_TOKEN``, ``*PASS*``, ``*_PWD``,
  ``*_KEY``, ``*AUTH*``, ``*_DSN``...  Such values are never kept at all.
* :func:`redact_value` - secrets *inside* a value whatever its name: URL userinfo, secret-named
  query parameters and ``key=value`` pairs, ``Authorization`` headers, well-known token shapes
  (``ghp_``, ``hf_``, ``sk-``, ``AKIA``, JWTs...) and long random-looking strings.
* :func:`redact_argv` - a command line: the value after a secret-looking flag, then every
  argument through :func:`redact_value`.

Redaction errs towards hiding: a false alarm costs a setting in a manifest, a miss leaks a
credential into a file made to be shared.  What stays is what a reader of a manifest needs:
paths, versions, model names, hostnames and ports, digests (hex is never treated as random:
commit ids, sha256 sums and UUIDs are what a manifest is made of).
"""

from __future__ import annotations

import binascii
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

REDACTED = "<redacted>"
"""What a secret value is replaced with (URL userinfo is dropped instead, as a URL reads)."""

# ----------------------------------------------------------------------------------- names

SECRET_WORDS = (
    "PASS",  # PASS, PASSWORD, PASSWD, PASSPHRASE, PGPASSFILE
    "TOKEN",
    "SECRET",
    "BEARER",
    "AUTH",  # AUTH, OAUTH, AUTHORIZATION, AUTHTOKEN
    "CREDENTIAL",
    "COOKIE",
    "SESSION",
    "PRIVATE",
    "CERT",
    "SALT",
)
"""Inside any word of a name: HF_TOKEN, MLX_PASSPHRASE, OLLAMA_SECRET.  KEY is judged apart
(:func:`_key_word`): HOTKEY, MONKEY and KEY_LENGTH say nothing secret."""

_KEY_KINDS = (
    "API", "ACCESS", "SECRET", "PRIVATE", "SIGNING", "SIGN", "MASTER", "ENCRYPTION", "CRYPT",
    "CRYPTO", "AUTH", "SESSION", "LICENSE", "SSH", "GPG", "PGP", "CLIENT", "APP", "SERVICE",
    "ADMIN", "DEPLOY", "SHARED", "HMAC", "AES", "RSA", "ROOT", "USER", "PASS",
)  # fmt: skip
"""What a word may say before a KEY glued to it to name a key: APIKEY, OLLAMAAPIKEY,
ACCESSKEY (HOTKEY, MONKEY, TURKEY: no)."""
_KEY_TAILS = frozenset({"", "S", "FILE", "FILES", "STORE", "RING", "CHAIN", "PAIR", "ID", "IDS"})
"""What may follow KEY inside a word that still names a key or where one is kept: KEYS,
KEYFILE, KEYSTORE, KEYRING (KEYBOARD, KEYMAP, KEYWORDS: no)."""
_KEY_COUNTS = frozenset({"N", "NUM", "NB", "MAX", "MIN", "COUNT", "TOTAL"})
_KEY_MEASURES = frozenset({"LENGTH", "LEN", "SIZE", "COUNT", "NUM", "NUMBER", "BITS", "LIMIT"})
"""KEY as a word beside one of these is a count or a length: N_KEYS, MAX_KEYS, KEY_LENGTH."""

SECRET_WHOLE_WORDS = frozenset(
    {"PW", "PWD", "PSWD", "PAT", "DSN", "CRED", "CREDS", "PSK", "OTP"}
)
"""Short words that mean a secret only as a word of their own: ZES_PW, VLLM_PWD, GITHUB_PAT,
MKL_DSN (PW inside PWR or DSN inside a longer word mean nothing)."""

_INNOCENT_PIECES = (
    "TOKENIZ",  # TOKENIZER, TOKENIZERS_PARALLELISM, TOKENIZATION
    "BYPASS",
    "COMPASS",
    "PASSTHROUGH",
    "PASSTHRU",
    "PASSES",
    "KEYBOARD",
    "AUTHOR",  # AUTHOR, AUTHORS, but see AUTHORIZ below
    "CERTAIN",  # UNCERTAINTY
    "PAUTH",  # Arm pointer authentication (sysctl hw.optional.arm.FEAT_PAuth)
)
"""Words that contain a secret word yet say nothing secret; cut out before the search.
AUTHORIZATION is put back as a secret below (it contains AUTHOR)."""

_COUNTED = frozenset(
    {
        "MAX", "MIN", "NUM", "N", "BATCHED", "GEN", "NEW", "PROMPT", "INPUT", "OUTPUT", "CTX",
        "CONTEXT", "PREDICT", "BOS", "EOS", "EOT", "EOM", "PAD", "UNK", "SEP", "CLS", "MASK",
        "NL", "FIM", "PRE", "SUF", "MID", "SPECIAL", "START", "END", "STOP", "ADD", "PREFIX",
        "SUFFIX", "MIDDLE", "SESSIONS",
    }
)  # fmt: skip
"""A TOKEN word right after one of these is a count or a vocabulary entry, not a credential:
MAX_TOKENS, VLLM_MAX_NUM_BATCHED_TOKENS, tokenizer.ggml.add_bos_token."""

_PATH_WORDS = frozenset({"PWD", "OLDPWD"})
"""Whole names that are the shell's current and previous folder, not a password - when their
value is a folder: ``PWD=/home/alice`` is the shell's, ``Pwd=hunter2`` in a connection string
(ODBC spells the password so) is a password (:func:`is_secret_pair`)."""

_FOLDER = re.compile(r"""["']?(?:[/~.\\$%]|[A-Za-z]:[\\/]|\Z)""")
"""The start of a folder as PWD holds one: absolute, home, relative, a variable, a drive."""

_QUERY_WORDS = frozenset({"SIG", "SIGNATURE", "CODE"})
"""Query parameters that carry a credential though their names do not say so (signed URLs,
OAuth codes): ``?sig=``, ``&X-Amz-Signature=``, ``?code=``."""

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def name_words(name: str) -> list[str]:
    """The upper-case words of a name: "ollamaApiKey" / "OLLAMA_API_KEY" -> OLLAMA, API, KEY."""
    return [word.upper() for word in _WORD_SPLIT.split(name) if word]


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """The name says its value is a secret (``OLLAMA_PASS``, ``--api-key``, ``sessionId``).

    Matched per word of the name, any case: long secret words anywhere in a word
    (``MYAPIKEY``), short ones (``PW``, ``PWD``, ``DSN``) only as whole words.  ``PWD`` and
    ``OLDPWD`` as whole names are the shell's folders; counts of tokens (``MAX_TOKENS``) and
    tokenizer settings are not credentials.  A name holding a token itself is secret.
    """
    if name.upper() in _PATH_WORDS:
        return False
    words = name_words(name)
    for i, word in enumerate(words):
        previous = words[i - 1] if i else ""
        following = words[i + 1] if i + 1 < len(words) else ""
        if _secret_word(word, previous) or _key_word(word, previous, following):
            return True
    # A credential pasted into the name itself (GGML_ghp_...=1) is a secret too.
    return _TOKEN_SHAPES.search(name) is not None or any(
        looks_random(run) for run in _RANDOM_RUN.findall(name)
    )


def is_secret_pair(name: str, value: str) -> bool:
    """``name`` holds ``value``, and that value is a secret: by the name (:func:`is_secret_name`),
    or a ``PWD`` / ``OLDPWD`` whose value is no folder (``pwd=hunter2``)."""
    if name.upper() in _PATH_WORDS:
        return _FOLDER.match(value) is None
    return is_secret_name(name)


def _key_word(word: str, previous: str, following: str) -> bool:
    """KEY in a word names a key: a word of its own (``API_KEY``, ``apiKey``, ``KEY``) unless a
    count or a length (``N_KEYS``, ``KEY_LENGTH``), or glued after what says which key
    (``OLLAMAAPIKEY``) or before where one is kept (``SSL_KEYFILE``)."""
    start = word.find("KEY")
    while start >= 0:
        before, after = word[:start], word[start + 3 :]
        if after in _KEY_TAILS and (not before or before.endswith(_KEY_KINDS)):
            alone = word in ("KEY", "KEYS")
            if not (alone and (previous in _KEY_COUNTS or following in _KEY_MEASURES)):
                return True
        start = word.find("KEY", start + 1)
    return False


def _secret_word(word: str, previous: str) -> bool:
    if word in SECRET_WHOLE_WORDS or word.endswith("PWD") or "AUTHORIZ" in word:
        return True
    for piece in _INNOCENT_PIECES:
        word = word.replace(piece, "")
    if word.startswith("TOKEN") and word.rstrip("S") == "TOKEN" and previous in _COUNTED:
        return False
    return any(secret in word for secret in SECRET_WORDS)


def is_secret_query_name(name: str) -> bool:
    """A URL query parameter or form field that carries a credential."""
    return is_secret_name(name) or any(w in _QUERY_WORDS for w in name_words(name))


# ---------------------------------------------------------------------------------- values

_TOKEN_SHAPES = re.compile(
    r"""(?<![A-Za-z0-9])(?:
        gh[pousr]_[A-Za-z0-9]{20,}                      # GitHub classic and app tokens
      | github_pat_[A-Za-z0-9_]{20,}                    # GitHub fine-grained tokens
      | glpat-[A-Za-z0-9_-]{20,}                        # GitLab
      | hf_[A-Za-z0-9]{20,}                             # Hugging Face
      | sk-ant-[A-Za-z0-9_-]{20,}                       # Anthropic
      | sk-[A-Za-z0-9_-]{20,}                           # OpenAI and look-alikes
      | (?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}     # Stripe
      | xox[abposr]-[A-Za-z0-9-]{10,}                   # Slack
      | xapp-[A-Za-z0-9-]{10,}
      | (?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}        # AWS access key ids
      | AIza[A-Za-z0-9_-]{30,}                          # Google API keys
      | ya29\.[A-Za-z0-9_-]{20,}                        # Google OAuth access tokens
      | npm_[A-Za-z0-9]{30,}
      | pypi-[A-Za-z0-9_-]{50,}
      | nvapi-[A-Za-z0-9_-]{30,}                        # NVIDIA NGC / build.nvidia.com
      | gsk_[A-Za-z0-9]{30,}                            # Groq
      | r8_[A-Za-z0-9]{30,}                             # Replicate
      | eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*   # JWT
    )""",
    re.VERBOSE,
)
_PEM_PRIVATE = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_AUTH_HEADER = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9_])|(?<=\\[rn]))(?:proxy-)?authorization[ \t]*[:=][ \t]*"
)
_SECRET_HEADER = re.compile(
    r"(?i)(?<![^\s\"'`])(cookie|set-cookie|api-key|private-token|"
    r"x-[a-z0-9-]*(?:key|token|secret|auth|session|password)[a-z0-9-]*)(\s*:\s*)"
    r"""([^\r\n"'`]+)"""
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})")
_BASIC = re.compile(r"\b(Basic\s+)([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])")
_SCHEME = re.compile(r"(?i)(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]*://")
_URL_END = re.compile(r"""[\s"'`<>]""")
_HOSTPORT = re.compile(r"(?:\[[0-9A-Za-z:.%]*\]|[A-Za-z0-9._~%-]*)(?::\d*)?")
_BARE_WORD = re.compile(r"""[^\s"'`=,;()<>{}]+""")
_NAME_VALUE = re.compile(
    r"""(?<![\w.-])([A-Za-z_][\w.-]*)(\s*=\s*)("[^"\n]*"|'[^'\n]*'|[^\s&;,"'`)]*)"""
)
_QUERY_PARAM = re.compile(r"([?&;])([^=&#\s?;]+)=([^&#\s\"'`]*)")
_QUOTED_KEY = re.compile(r"""(["'])([A-Za-z_][\w.-]*)\1(\s*:\s*)(["'])((?:\\.|(?!\4).)*)\4""")
_LINE_KEY = re.compile(r"(?m)^([ \t]*)([A-Za-z_][\w.-]*)([ \t]*:[ \t]+)(\S[^\r\n]*)$")
_FLAG_VALUE = re.compile(r"(?<![\w-])(--?[A-Za-z][\w.-]*)(=|[ \t]+)(?!-)([^\s\"'`]+)")
_RANDOM_RUN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{20,}(?![A-Za-z0-9+/=_-])")
_HEX_RUN = re.compile(r"[0-9a-fA-F/=_-]+")


def redact_value(text: str) -> str:
    """``text`` with every secret inside it replaced (see the module's description).

    Idempotent, total (any string in, a string out) and conservative: paths, versions, model
    names, host:port and hex digests come back unchanged.
    """
    if not text:
        return text
    if "@" in text:
        text = strip_userinfo(text)
    text = _PEM_PRIVATE.sub(REDACTED, text)
    if "uthorization" in text or "UTHORIZATION" in text:
        text = _redact_auth_headers(text)
    text = _SECRET_HEADER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BASIC.sub(_basic, text)
    if "=" in text:
        text = _QUERY_PARAM.sub(_query_param, text)
        text = _NAME_VALUE.sub(_name_value, text)
    if ":" in text:
        text = _QUOTED_KEY.sub(_quoted_key, text)
        text = _LINE_KEY.sub(_line_key, text)
    if "-" in text:
        text = _redact_command_words(text)
        text = _FLAG_VALUE.sub(_flag_value, text)
    text = _TOKEN_SHAPES.sub(REDACTED, text)
    return _RANDOM_RUN.sub(_random_run, text)


def _redact_auth_headers(text: str) -> str:
    """Every ``Authorization`` / ``Proxy-Authorization`` value replaced whole.

    Whatever the scheme (``Bearer``, ``Basic``, ``Digest``, ``AWS4-HMAC-SHA256``, ``SSWS``,
    ``Key``, one nobody has seen yet, or none), every part of the value is the credential or
    says how to check it: ``Signature=`` and Digest's ``response=`` are as secret as a token.
    The value ends where the header does (see :func:`_header_value_end`).
    """
    out: list[str] = []
    pos = 0
    for match in _AUTH_HEADER.finditer(text):
        if match.start() < pos:
            continue
        end = _header_value_end(text, match.start(), match.end())
        value = text[match.end() : end].rstrip(" \t")
        out.append(text[pos : match.end()])
        kept = not value or value == REDACTED or _SETTING.fullmatch(value.strip("\"'"))
        out.append(value if kept else REDACTED)
        pos = match.end() + len(value)
    out.append(text[pos:])
    return "".join(out)


def _header_value_end(text: str, name_start: int, start: int) -> int:
    """Where a header's value that starts at ``start`` ends.

    At the end of its line (a real line end, or ``\\r`` / ``\\n`` written as escapes in
    JSON or a program's repr); and, when the header sits inside a quoted string (``-H
    'Authorization: ...'``, a JSON string), at the quote that closes it.  Quoted strings
    inside the value (Digest's ``response="..."``) and escaped quotes are part of it.
    """
    line_start = max(text.rfind("\n", 0, name_start), text.rfind("\r", 0, name_start)) + 1
    before = text[line_start:name_start]
    open_quotes = {q for q in "\"'`" if _unescaped(before, q) % 2}
    i, size = start, len(text)
    while i < size:
        char = text[i]
        if char in "\r\n":
            break
        if char == "\\":
            if text[i + 1 : i + 2] in ("r", "n", ""):
                break
            i += 2
            continue
        if char in "\"'`":
            if char in open_quotes:
                break
            close = _closing_quote(text, i)
            i = close + 1 if close is not None else i + 1
            continue
        i += 1
    return min(i, size)


def _unescaped(text: str, quote: str) -> int:
    """How many times ``quote`` appears in ``text`` not escaped by a backslash."""
    return len(re.findall(r"(?<!\\)" + re.escape(quote), text))


def _closing_quote(text: str, opening: int) -> int | None:
    """The position of the quote that closes the one at ``opening``, on the same line."""
    quote = text[opening]
    i = opening + 1
    while i < len(text) and text[i] not in "\r\n":
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return None


_WORD_START = r"""(?:^|(?<=[\s"'`]))"""  # where a word of a command line starts
_ARG = r"""("[^"\n]*"|'[^'\n]*'|[^\s"'`]+)"""
_USER_CREDENTIAL = re.compile(
    _WORD_START + r"(-[uU]|--(?:proxy-)?user)(=|[ \t]+|(?<=-[uU]))" + _ARG
)
_SSHPASS_P = re.compile(
    _WORD_START + r"((?:\S*[\\/])?sshpass(?:\.exe)?"
    r"(?:[ \t]+-[dfP](?:[ \t]*(?!-)\S+)|[ \t]+-[ehvV]+)*[ \t]+-p[ \t]*)" + _ARG
)
_MYSQL_P = re.compile(
    _WORD_START + r"((?:\S*[\\/])?(?:mysql|mariadb)[\w-]*(?:\.exe)?"
    r"(?:[ \t]+(?!-p)[^\s;|&]+)*?[ \t]+-p)" + _ARG
)
_ATTACHED_P = re.compile(r"""(?:(?<=[ \t])|(?<=[ \t]["']))(-p)""" + _ARG)
"""An attached ``-pX`` after another word: in a command line, not a lone value (a relative
path ``-p_x`` is a file name; :class:`_ArgvReader` judges a lone argument)."""
_NUMBERS = re.compile(r"=?[0-9][0-9.,:x*/+-]*")
"""llama-bench's ``-p 512,1024``, ``-p1024``: numbers, lists and ranges of them."""
_WORD_OPTION = re.compile(r"[a-z]+(?:[-:_.=][a-z0-9]+)*")
"""What follows ``-p`` in an option that starts with p: ``-pg`` (llama-bench), ``-pthread``,
``-pipe``, ``-pno:cacheprovider``."""


def _redact_command_words(text: str) -> str:
    """Credentials a command line written as text holds by its meaning (see
    :class:`_ArgvReader`): ``-u user:password``, ``sshpass -p X``, ``mysql -pX`` and an
    attached ``-pX`` that is no number and no word option."""
    text = _USER_CREDENTIAL.sub(_user_credential, text)
    if "-p" not in text:
        return text
    text = _SSHPASS_P.sub(_quoted_redaction, text)
    text = _MYSQL_P.sub(_quoted_redaction, text)
    return _ATTACHED_P.sub(_attached_p, text)


def _user_credential(match: re.Match[str]) -> str:
    flag, sep, value = match.groups()
    if not _user_password(value):
        return match.group()
    return flag + sep + _quoted_redaction_of(value)


def _quoted_redaction(match: re.Match[str]) -> str:
    return match.group(1) + _quoted_redaction_of(match.group(2))


def _quoted_redaction_of(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0] + REDACTED + value[0]
    return REDACTED


def _attached_p(match: re.Match[str]) -> str:
    value = match.group(2)
    return match.group() if _not_a_password(value) else match.group(1) + _quoted_redaction_of(value)


def _not_a_password(value: str) -> bool:
    """What follows ``-p`` of a tool not known to mean a password by it: numbers and word
    options stay (a password of lower-case letters only stays too: only its tool tells)."""
    return REDACTED in value or bool(_NUMBERS.fullmatch(value) or _WORD_OPTION.fullmatch(value))


def _basic(match: re.Match[str]) -> str:
    """``Basic <base64 of user:password>``: only when it decodes to that shape."""
    try:
        decoded = binascii.a2b_base64(match.group(2) + "=" * (-len(match.group(2)) % 4))
    except (binascii.Error, ValueError):
        return match.group(0)
    return match.group(1) + REDACTED if b":" in decoded else match.group(0)


_SETTING = re.compile(
    r"(?i)\d{1,2}|true|false|yes|no|on|off|enabled?|disabled?|none|null"
    r"|bearer|basic|digest|negotiate|ntlm"
)
"""A value that is a switch, a small number or an auth scheme's name (the credential after
it is a word of its own) is no secret whatever its name says."""


def _keep_or_redact(name: str, value: str, rule: Callable[[str], bool] = is_secret_name) -> str:
    if not value or REDACTED in value or _SETTING.fullmatch(value.strip("\"'")):
        return value
    if name.upper() in _PATH_WORDS:
        if not is_secret_pair(name, value):
            return value
    elif not rule(name):
        return value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0] + REDACTED + value[0]
    return REDACTED


def _query_param(match: re.Match[str]) -> str:
    value = _keep_or_redact(match.group(2), match.group(3), is_secret_query_name)
    return f"{match.group(1)}{match.group(2)}={value}"


def _name_value(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2) + _keep_or_redact(match.group(1), match.group(3))


def _quoted_key(match: re.Match[str]) -> str:
    quote, name, sep, vquote, value = match.groups()
    kept = _keep_or_redact(name, value)
    return f"{quote}{name}{quote}{sep}{vquote}{kept}{vquote}"


def _line_key(match: re.Match[str]) -> str:
    indent, name, sep, value = match.groups()
    return indent + name + sep + _keep_or_redact(name, value)


def _flag_value(match: re.Match[str]) -> str:
    flag, sep, value = match.groups()
    return flag + sep + _keep_or_redact(flag.lstrip("-"), value)


# ------------------------------------------------------------------------- URL userinfo


def strip_userinfo(text: str) -> str:
    """URLs without their ``user:password@`` part, anywhere in ``text``.

    Also malformed userinfo (``http://user:p/SECRET@host``, ``http://user:p@SECRET@host``)
    and scheme-less ``user:password@host:port`` (as OLLAMA_HOST accepts it).  Username-only
    userinfo goes too (``https://TOKEN@github.com``); ``git@github.com:org/repo`` stays.
    """
    text = _strip_scheme_userinfo(text)
    if "@" not in text:
        return text
    return _BARE_WORD.sub(lambda m: _strip_bare_userinfo(m.group()), text)


def _strip_scheme_userinfo(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _SCHEME.finditer(text):
        if match.start() < pos:
            continue
        start = match.end()
        end_match = _URL_END.search(text, start)
        end = end_match.start() if end_match else len(text)
        cut = _userinfo_end(text[start:end])
        out.append(text[pos:start])
        pos = start + cut
    out.append(text[pos:])
    return "".join(out)


def _userinfo_end(rest: str) -> int:
    """How many characters after ``scheme://`` are userinfo (0: none)."""
    head = re.split(r"[?#]", rest, maxsplit=1)[0]
    at = head.rfind("@")
    if at < 0:
        return 0
    slash = head.find("/")
    authority = head if slash < 0 else head[:slash]
    if "@" in authority:
        return authority.rfind("@") + 1
    if _HOSTPORT.fullmatch(authority):
        return 0  # an "@" in the path of a proper host[:port] URL (npm scopes, git refs)
    return at + 1  # "user:p/SECRET@host": the authority is no host, the password held a "/"


def _strip_bare_userinfo(word: str) -> str:
    """``user:pw@host:11434`` -> ``host:11434``; anything else unchanged."""
    if "://" in word or word.lower().startswith("mailto:"):
        return word
    head = re.split(r"[?#]", word, maxsplit=1)[0]
    at = head.rfind("@")
    colon = head.find(":")
    if at < 0 or colon < 0 or colon > at or re.match(r"[A-Za-z]:[\\/]", head):
        return word
    after = word[at + 1 :]
    if not re.match(r"[A-Za-z0-9\[]", after) or re.match(r"(?i)sha\d+:", after):
        return word
    return after


# ------------------------------------------------------------------------ random strings


_EXTENSION = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,15})(?![A-Za-z0-9])")
"""A file name's extension right after a run: ``.gguf``, ``.Q4_K_M``'s ``.Q4``, ``.json``."""
MODEL_EXTENSIONS = frozenset(
    {"gguf", "ggml", "bin", "safetensors", "pt", "pth", "onnx", "llamafile", "mlmodel", "tflite",
     "ckpt", "h5", "pb", "engine", "plan", "nemo", "mlpackage", "gguf-split", "q4", "q8"}
)  # fmt: skip
"""Extensions of model files: every folder of such a path names a model, an organisation or
a quantisation, never a key (``/models/MetaLlama3x1x8BInstructQ4KM/model.gguf``)."""


def _random_run(match: re.Match[str]) -> str:
    run = match.group()
    extension = _EXTENSION.match(match.string, match.end())
    if extension is not None:
        # A file name with an extension is a name, not a key; its folders are judged one
        # by one, unless the file is a model, whose folders all name it.
        if extension.group(1).lower() in MODEL_EXTENSIONS:
            return run
        *folders, name = run.split("/")
        return "/".join([*(REDACTED if looks_random(f) else f for f in folders), name])
    if looks_random(run):
        return REDACTED
    if "/" not in run:
        return run
    # A path: its segments are separate values, and a key among them is still a key
    # (``/services/T000/B000/<webhook secret>``); the names around it stay.
    return "/".join(REDACTED if looks_random(part) else part for part in run.split("/"))


def looks_random(run: str) -> bool:
    """A long run of letters and digits that reads like a key rather than a word.

    Hex is never random here (digests, commit ids, UUIDs); separators (``-_/+``) must be
    rare (model names and paths are made of short words); the letters and digits must be
    varied (Shannon entropy near the most the length allows) and mix classes often, or carry
    few vowels, as random keys do and identifiers like ``NVIDIAGeForceRTX4090`` do not.

    A run with ``/`` in it is a path (segments that :func:`redact_value` judges one by one)
    unless it has the make-up of base64, whose alphabet holds ``/``: a random base64 key of
    20 or more characters holds both upper and lower case (one is missing fewer than 6 times
    in 100,000), while the names of a path are mostly of one case.
    """
    core = run.rstrip("=")
    alnum = [c for c in core if c.isalnum()]
    n = len(alnum)
    if n < 20 or _HEX_RUN.fullmatch(core):
        return False
    if (len(core) - n) * 16 > n:
        return False
    if not any(c.isdigit() for c in alnum) or not any(c.isalpha() for c in alnum):
        return False
    if "/" in core and not _both_cases(alnum):
        return False
    if _entropy(alnum) < max(3.7, 0.85 * math.log2(min(n, 62))):
        return False
    letters = [c for c in alnum if c.isalpha()]
    vowels = sum(c in "aeiouAEIOU" for c in letters) / len(letters)
    return _class_changes(alnum) >= 0.35 or vowels < 0.25


def _both_cases(chars: Sequence[str]) -> bool:
    return any(c.isupper() for c in chars) and any(c.islower() for c in chars)


def _entropy(chars: Sequence[str]) -> float:
    counts: dict[str, int] = {}
    for c in chars:
        counts[c] = counts.get(c, 0) + 1
    total = len(chars)
    return -sum(k / total * math.log2(k / total) for k in counts.values())


def _class_changes(chars: Sequence[str]) -> float:
    def kind(c: str) -> int:
        return 0 if c.isdigit() else 1 if c.isupper() else 2

    changes = sum(kind(a) != kind(b) for a, b in itertools.pairwise(chars))
    return changes / (len(chars) - 1)


# ---------------------------------------------------------------------------- command lines


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A command line safe to store: the value after a secret-looking flag (``--api-key X``,
    ``--hf-token=X``, ``-H "Authorization: ..."``), credentials by their meaning (``-u
    user:password``, ``sshpass -p X``, ``mysql -pX``: see :class:`_ArgvReader`) and secrets
    inside any argument go."""
    reader = _ArgvReader()
    return [reader.read(arg) for arg in argv]


_PASSWORD_P_TOOLS = re.compile(r"(?i)sshpass(?:\.exe)?")
"""Tools whose ``-p X`` and ``-pX`` are a password (until their own options end)."""
_ATTACHED_P_TOOLS = re.compile(r"(?i)(?:mysql|mariadb)[\w-]*(?:\.exe)?")
"""Tools whose attached ``-pX`` is a password (``-p`` alone makes them ask for it, and the
word after it is a database, not a password)."""
_SSHPASS_VALUE_FLAGS = frozenset({"-f", "-d", "-P"})
"""sshpass options that take a value: a file, a descriptor, a prompt."""
_USER_FLAGS = frozenset({"-u", "-U", "--user", "--proxy-user"})
_FLAG_NAME = re.compile(r"[A-Za-z][\w.-]*")
"""Flags whose ``user:password`` value is a credential (curl, wget, and look-alikes)."""


class _ArgvReader:
    """Reads a command line word by word, remembering what the last words make of the next.

    * a secret-named flag (``--api-key``, ``--password``) hides the next word unless it is
      another long flag, a ``--pwd`` hides it unless it is a folder;
    * ``-u``/``--user``/``-U``/``--proxy-user``: a next word shaped ``user:password`` is a
      credential (``uid:gid``, a URL or a drive path is not);
    * inside sshpass's options ``-p X`` / ``-pX`` is the password; after a mysql or mariadb
      client an attached ``-pX`` is (``-p`` alone asks for it);
    * any other ``-pX`` and ``-u user:password`` is left to :func:`redact_value`, which keeps
      numbers, lists of numbers and word options (``-p512,1024``, ``-pthread``).
    """

    def __init__(self) -> None:
        self.hide_next = ""  # why the next word is judged apart: secret, pwd, user, value
        self.tool = ""  # "sshpass" while in its options, "mysql" after a mysql client

    def read(self, arg: str) -> str:
        why, self.hide_next = self.hide_next, ""
        if why == "secret" and not arg.startswith("--"):
            return REDACTED
        if why == "pwd" and is_secret_pair("pwd", arg):
            return REDACTED
        if why == "user" and _user_password(arg):
            return REDACTED
        if why in ("password", "value"):
            return REDACTED if why == "password" else redact_value(arg)
        if not arg.startswith("-") or arg == "-":
            self._program(arg)
            return redact_value(arg)
        return self._option(arg)

    def _program(self, word: str) -> None:
        name = re.split(r"[\\/]", word)[-1]
        if _PASSWORD_P_TOOLS.fullmatch(name):
            self.tool = "sshpass"
        elif _ATTACHED_P_TOOLS.fullmatch(name):
            self.tool = "mysql"
        elif self.tool == "sshpass":
            self.tool = ""  # the command sshpass runs: its -p is its own (ssh's port)

    def _option(self, arg: str) -> str:
        flag, eq, value = arg.partition("=")
        if self.tool == "sshpass":
            if arg == "-p":
                self.hide_next = "password"
                return arg
            if arg in _SSHPASS_VALUE_FLAGS:
                self.hide_next = "value"
        attached_p = arg.startswith("-p") and len(arg) > 2 and not arg.startswith("-p=")
        if attached_p and (self.tool in ("sshpass", "mysql") or not _not_a_password(arg[2:])):
            return "-p" + REDACTED
        name = flag.lstrip("-")
        if not _FLAG_NAME.fullmatch(name):
            return redact_value(arg)  # -uadmin:pw is no flag named "uadmin:pw"
        if name.upper() in _PATH_WORDS:
            if not eq:
                self.hide_next = "pwd"
            elif is_secret_pair(name, value):
                return flag + "=" + REDACTED
        elif is_secret_name(name):
            if eq:
                return flag + "=" + REDACTED
            self.hide_next = "secret"
        if arg in _USER_FLAGS:
            self.hide_next = "user"
        return redact_value(arg)


def _user_password(value: str) -> bool:
    """``user:password`` as curl's ``-u`` takes it; not ``uid:gid``, a URL, a drive path,
    ``user:`` (curl asks for the password) or something already redacted."""
    user, colon, password = value.strip("\"'").partition(":")
    if not colon or not password or REDACTED in value or password.startswith("//"):
        return False
    if len(user) == 1 and password[:1] in ("\\", "/"):
        return False  # C:\\x, C:/x
    return not (user.isdigit() and password.isdigit())


# ---------------------------------------------------------------------- results' names, params


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A result's parameters as they are stored: a secret-named parameter's text goes
    (``api_key``, ``hf_token``; a ``pwd`` that is no folder), every text through
    :func:`redact_value` (``url=https://u:pw@h``), and a name holding a secret goes too.
    Numbers, booleans and null stay whatever the name (``token=12`` is no credential)."""
    return {redact_value_cached(str(k)): _param(str(k), value) for k, value in params.items()}


def _param(name: str, value: Any) -> Any:
    if isinstance(value, str):
        return _param_text(name, value)
    if isinstance(value, list):
        return [_param(name, item) for item in value]
    return value


@lru_cache(maxsize=4096)
def _param_text(name: str, value: str) -> str:
    """Cached: a recorder stores the same parameters with every result."""
    kept = _keep_or_redact(name, value)
    return kept if kept != value else redact_value_cached(value)


@lru_cache(maxsize=4096)
def redact_value_cached(text: str) -> str:
    """:func:`redact_value`, cached: for names and values that repeat (results' names and
    parameters)."""
    return redact_value(text)


# ------------------------------------------------------------------------ recorded answers

_BINARY_FIELDS = frozenset({"hex", "sha256"})
"""Answer fields that are bytes or digests, never text a secret could hide in."""


def redact_key(op: str, key: Mapping[str, Any]) -> dict[str, Any]:
    """How a runner question is written into a recording: command lines through
    :func:`redact_argv`, extra environment values, URLs and paths through :func:`redact_value`.
    """
    out: dict[str, Any] = {}
    for field, value in key.items():
        if field == "argv" and isinstance(value, list):
            out[field] = redact_argv([str(v) for v in value])
        elif field == "env" and isinstance(value, Mapping):
            out[field] = {k: _redact_env(str(k), v) for k, v in value.items()}
        else:
            out[field] = _redact_tree(value)
    return out


def redact_answer(op: str, key: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """A runner's answer as a recording may hold it: environment values of secret-looking
    names replaced, secret-looking names left out of the list of names, and every text
    (command output, file contents, HTTP bodies, git remotes, details) through
    :func:`redact_value`."""
    if op == "env":
        return {**answer, "value": _redact_env(str(key.get("name", "")), answer.get("value"))}
    if op == "env_names":
        names = answer.get("names")
        if isinstance(names, list):
            kept = [n for n in names if isinstance(n, str) and not is_secret_name(n)]
            return {**answer, "names": [n for n in kept if redact_value(n) == n]}
    result = _redact_tree(answer)
    assert isinstance(result, dict)
    return result


def _redact_env(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    return REDACTED if is_secret_name(name) else redact_value(value)


def _redact_tree(node: Any, field: str = "") -> Any:
    if isinstance(node, str):
        return node if field in _BINARY_FIELDS else redact_value(node)
    if isinstance(node, Mapping):
        return {k: _redact_tree(v, str(k)) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_redact_tree(item, field) for item in node]
    return node
