"""Signing keys: generation, storage, loading, keyids and the trusted-keys folder.

Key material never reaches a message, a log or a ``repr``: only keyids and paths do.

Layout (``ENVSTAMP_CONFIG_DIR`` replaces platformdirs' user config folder)::

    <config>/keys/            0700
        signing.pem           the default private key, PKCS#8 PEM, 0600
        signing.pub.pem       its public key (SubjectPublicKeyInfo PEM)
        trusted/*.pem|*.pub   other public keys that ``verify`` trusts without --key
        retired/*.pub.pem     public keys replaced by ``keygen --force`` (not trusted)

``cryptography`` is imported inside the functions that need it, so ``import envstamp`` and
commands that never sign stay fast.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeGuard

from envstamp.errors import InputError

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256"
ALGORITHMS = (ED25519, ECDSA_P256)

ENV_CONFIG_DIR = "ENVSTAMP_CONFIG_DIR"
ENV_PRIVATE_KEY = "ENVSTAMP_PRIVATE_KEY"
ENV_PRIVATE_KEY_FILE = "ENVSTAMP_PRIVATE_KEY_FILE"
ENV_PASSPHRASE = "ENVSTAMP_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
# Some CI secret mounts (tmpfs, Kubernetes volumes) cannot give a file mode 0600.
ENV_INSECURE_PERMISSIONS = "ENVSTAMP_INSECURE_KEY_PERMISSIONS"

PRIVATE_FILE = "signing.pem"
TRUSTED_FOLDER = "trusted"
RETIRED_FOLDER = "retired"
MAX_KEY_FILE_BYTES = 64 * 1024

# RFC 8410: an Ed25519 key's DER is a fixed prefix followed by its 32 raw bytes.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
_PEM_PRIVATE = (b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----")
_PEM_PUBLIC = (b"-----BEGIN PUBLIC KEY-----", b"-----END PUBLIC KEY-----")
_PEM_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


class KeyExistsError(InputError):
    """A key file is already there and ``force`` was not given."""


# ------------------------------------------------------------------------------ key objects


class PublicKey:
    """A public key that verifies signatures; its algorithm comes from the key itself."""

    __slots__ = ("_key", "algorithm", "der", "keyid")

    def __init__(self, key: Any) -> None:
        self._key = key
        self.algorithm = algorithm_of(key)
        self.der = _spki_der(key, self.algorithm)
        self.keyid = hashlib.sha256(self.der).hexdigest()

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` over ``data`` was made by this key's private half."""
        from cryptography.exceptions import InvalidSignature

        try:
            if self.algorithm == ED25519:
                self._key.verify(signature, data)
            else:
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import ec

                self._key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def pem(self) -> str:
        """SubjectPublicKeyInfo PEM (what openssl and cosign read)."""
        body = binascii.b2a_base64(self.der, newline=False).decode("ascii")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"

    def openssh(self) -> str:
        """One ``authorized_keys``-style line, commented with the keyid."""
        from cryptography.hazmat.primitives import serialization

        line = self._key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode("ascii")
        return f"{line} envstamp:{self.keyid[:16]}\n"

    @property
    def crypto_key(self) -> Any:
        """The underlying ``cryptography`` public key (for interoperability tests)."""
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.keyid == self.keyid

    def __hash__(self) -> int:
        return hash(self.keyid)

    def __repr__(self) -> str:
        return f"PublicKey({self.algorithm}, keyid={self.keyid})"


class SigningKey:
    """A private key.  Its ``repr`` and messages name the keyid and where it came from only."""

    __slots__ = ("_key", "public_key", "source")

    def __init__(self, key: Any, *, source: str = "(in memory)") -> None:
        self._key = key
        self.public_key = PublicKey(key.public_key())
        self.source = source

    @property
    def algorithm(self) -> str:
        return self.public_key.algorithm

    @property
    def keyid(self) -> str:
        return self.public_key.keyid

    def sign(self, data: bytes) -> bytes:
        """Ed25519: the 64-byte signature; ECDSA P-256: a DER signature over SHA-256."""
        if self.algorithm == ED25519:
            return bytes(self._key.sign(data))
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return bytes(self._key.sign(data, ec.ECDSA(hashes.SHA256())))

    def verify(self, signature: bytes, data: bytes) -> bool:
        return self.public_key.verify(signature, data)

    def private_pem(self, passphrase: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given."""
        from cryptography.hazmat.primitives import serialization

        encryption: Any = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return bytes(
            self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )

    @classmethod
    def generate(cls, algorithm: str = ED25519) -> SigningKey:
        """A new random key."""
        if algorithm == ED25519:
            from cryptography.hazmat.primitives.asymmetric import ed25519

            return cls(ed25519.Ed25519PrivateKey.generate(), source="(new key)")
        if algorithm == ECDSA_P256:
            from cryptography.hazmat.primitives.asymmetric import ec

            return cls(ec.generate_private_key(ec.SECP256R1()), source="(new key)")
        raise InputError(f"unknown algorithm {algorithm!r}; choose {' or '.join(ALGORITHMS)}")

    @classmethod
    def from_pem(
        cls, data: bytes, *, source: str, passphrase: bytes | str | None = None
    ) -> SigningKey:
        """A key from PEM bytes; asks for the passphrase only when the key is encrypted."""
        return cls(_private_from_pem(data, source, passphrase), source=source)

    def __repr__(self) -> str:
        return f"SigningKey({self.algorithm}, keyid={self.keyid}, source={self.source})"

    def __reduce__(self) -> Any:
        # Pickling would copy key material into places nobody audits.
        raise TypeError("signing keys cannot be pickled")


def algorithm_of(key: Any) -> str:
    """``ed25519`` or ``ecdsa-p256`` for a ``cryptography`` key; InputError for others."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return ED25519
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        if key.curve.name == "secp256r1":
            return ECDSA_P256
        raise InputError(f"ECDSA curve {key.curve.name} is not supported; use P-256")
    raise InputError(f"{type(key).__name__} keys are not supported; use Ed25519 or ECDSA P-256")


def _spki_der(key: Any, algorithm: str) -> bytes:
    if algorithm == ED25519:
        return _ED25519_SPKI_PREFIX + bytes(key.public_bytes_raw())
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


# ---------------------------------------------------------------------------- PEM parsing


def _single_pem_block(data: bytes, markers: tuple[bytes, bytes]) -> bytes | None:
    """The DER inside a lone PEM block with these markers, or None."""
    text = data.strip()
    head, foot = markers
    if not (text.startswith(head) and text.endswith(foot)):
        return None
    body = b"".join(text[len(head) : -len(foot)].split())
    try:
        # What base64.b64decode(validate=True) checks, without importing base64 (and struct).
        if not _PEM_BASE64.fullmatch(body):
            return None
        return binascii.a2b_base64(body)
    except (ValueError, binascii.Error):
        return None


def _is_plain_ed25519_private(der: bytes | None) -> TypeGuard[bytes]:
    """True for the DER of an unencrypted Ed25519 PKCS#8 key: the fixed prefix and the seed."""
    return der is not None and len(der) == 48 and der.startswith(_ED25519_PKCS8_PREFIX)


def _fast_ed25519_private(data: bytes) -> Any:
    """The common key, a plain Ed25519 PKCS#8 PEM, read without cryptography's PEM loader:
    importing its serialization layer costs a signed capture ~8 ms (docs/decisions.md).
    None for any other PEM, which the loader reads."""
    der = _single_pem_block(data, _PEM_PRIVATE)
    if not _is_plain_ed25519_private(der):
        return None
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.from_private_bytes(der[16:])


def _fast_ed25519_public(data: bytes) -> Any:
    """An Ed25519 SubjectPublicKeyInfo PEM read the same way; None for any other."""
    der = _single_pem_block(data, _PEM_PUBLIC)
    if der is None or len(der) != 44 or not der.startswith(_ED25519_SPKI_PREFIX):
        return None
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PublicKey.from_public_bytes(der[12:])


def _private_from_pem(data: bytes, source: str, passphrase: bytes | str | None) -> Any:
    fast = _fast_ed25519_private(data)
    if fast is not None:
        return fast
    if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
        raise InputError(f"{source} is an OpenSSH private key; envstamp reads PKCS#8 PEM keys")
    if b"PRIVATE KEY-----" not in data:
        raise InputError(f"{source} is not a PEM private key")
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    password = _passphrase_for(source, passphrase) if encrypted else None
    from cryptography.exceptions import InternalError, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(data, password=password)
    except ValueError:
        if encrypted:
            raise InputError(f"wrong passphrase for {source}") from None
        raise InputError(f"{source} is not a readable PEM private key") from None
    except (TypeError, UnsupportedAlgorithm, InternalError):
        # InternalError: OpenSSL gave up on the key's contents (an Ed25519 key relabelled
        # as another curve), which is a damaged file, not a fault of envstamp.
        raise InputError(f"{source} is not a readable PEM private key") from None
    algorithm_of(key)  # refuse RSA and other curves here, with a clear message
    return key


def _passphrase_for(source: str, given: bytes | str | None) -> bytes:
    if given is None:
        given = os.environ.get(ENV_PASSPHRASE) or None
    if given is None and _interactive():
        import getpass

        given = getpass.getpass(f"passphrase for {source}: ")
    if not given:
        raise InputError(f"{source} is encrypted: set {ENV_PASSPHRASE} to its passphrase")
    return given.encode("utf-8") if isinstance(given, str) else given


def _interactive() -> bool:
    stdin = sys.stdin
    return bool(stdin is not None and stdin.isatty())


def _public_from_bytes(data: bytes, source: str) -> PublicKey:
    stripped = data.strip()
    fast = _fast_ed25519_public(stripped)
    if fast is not None:
        return PublicKey(fast)
    if b"PRIVATE KEY-----" in stripped:
        raise InputError(
            f"{source} holds a private key; give its public key instead (envstamp pubkey)"
        )
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        if stripped.startswith(b"-----BEGIN"):
            key: Any = serialization.load_pem_public_key(stripped)
        elif stripped.startswith((b"ssh-", b"ecdsa-")):
            key = serialization.load_ssh_public_key(stripped)
        else:
            raise InputError(
                f"{source} is not a PEM or OpenSSH public key (a key file is what "
                "'envstamp keygen' writes or 'envstamp pubkey' prints)"
            )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(f"{source} is not a readable public key") from None
    return PublicKey(key)


# ------------------------------------------------------------------------------ locations


def config_dir() -> Path:
    """envstamp's user config folder (``ENVSTAMP_CONFIG_DIR`` overrides platformdirs)."""
    override = os.environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("envstamp", appauthor=False))


def default_key_dir() -> Path:
    """Where the default key pair and the trusted-keys folder live."""
    return config_dir() / "keys"


def default_private_path() -> Path:
    return default_key_dir() / PRIVATE_FILE


def trusted_dir() -> Path:
    """Public keys that ``verify`` trusts when no ``--key`` is given."""
    return default_key_dir() / TRUSTED_FOLDER


def public_path_for(private_path: Path) -> Path:
    """``signing.pem`` -> ``signing.pub.pem``; ``ci.key`` -> ``ci.key.pub.pem``."""
    name = private_path.name
    stem = name[: -len(".pem")] if name.endswith(".pem") else name
    return private_path.with_name(f"{stem}.pub.pem")


# -------------------------------------------------------------------------------- reading


def read_key_file(path: str | os.PathLike[str], what: str) -> tuple[bytes, os.stat_result]:
    """A key file's bytes (size-capped) and its status, with one-line errors."""
    return _read_limited(Path(path).expanduser(), what)


def _read_limited(path: Path, what: str) -> tuple[bytes, os.stat_result]:
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"{path} is not a regular file")
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a folder") from None
    except PermissionError:
        raise InputError(f"{what} {path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise InputError(f"{path} is too large to be a key")
    return data, info


def check_private_permissions(path: Path, mode: int) -> None:
    """Refuse a private key that group or others may access (POSIX only)."""
    if os.name == "nt" or not mode & 0o077:
        return
    if os.environ.get(ENV_INSECURE_PERMISSIONS, "") not in ("", "0"):
        return
    raise InputError(
        f"private key {path} is accessible by group or others (mode "
        f"{stat.S_IMODE(mode):04o}): run 'chmod 600 {path}', or set "
        f"{ENV_INSECURE_PERMISSIONS}=1 where a key file cannot be private (CI tmpfs)"
    )


def load_private_key_file(
    path: str | os.PathLike[str], *, passphrase: bytes | str | None = None
) -> SigningKey:
    """A private key from a PKCS#8 (or SEC1) PEM file that only its owner can read."""
    target = Path(path).expanduser()
    data, info = _read_limited(target, "private key")
    check_private_permissions(target, info.st_mode)
    return SigningKey.from_pem(data, source=str(target), passphrase=passphrase)


def load_public_key(source: str | os.PathLike[str] | bytes) -> PublicKey:
    """A public key from PEM or OpenSSH text, or from a file holding either."""
    if isinstance(source, (bytes, bytearray)):
        return _public_from_bytes(bytes(source), "public key")
    text = os.fspath(source)
    if "-----BEGIN" in text or text.lstrip().startswith(("ssh-", "ecdsa-sha2-")):
        return _public_from_bytes(text.encode("utf-8"), "public key")
    path = Path(text).expanduser()
    data, _ = _read_limited(path, "public key")
    return _public_from_bytes(data, str(path))


def _env_pem(value: str) -> bytes:
    # CI secret stores often flatten newlines into literal "\n".
    if "\n" not in value and "\\n" in value:
        value = value.replace("\\n", "\n")
    return value.encode("utf-8")


def load_signing_key(
    path: str | os.PathLike[str] | None = None,
    *,
    passphrase: bytes | str | None = None,
    create: bool = True,
) -> SigningKey:
    """The key to sign with: ``path`` > ``ENVSTAMP_PRIVATE_KEY`` (PEM text) /
    ``ENVSTAMP_PRIVATE_KEY_FILE`` > the default key, made on first use when ``create``.

    ``ENVSTAMP_PASSPHRASE`` (or a prompt on a terminal) unlocks an encrypted key.
    """
    if path is not None:
        return load_private_key_file(path, passphrase=passphrase)
    pem = os.environ.get(ENV_PRIVATE_KEY) or None
    pem_file = os.environ.get(ENV_PRIVATE_KEY_FILE) or None
    if pem and pem_file:
        raise InputError(f"both {ENV_PRIVATE_KEY} and {ENV_PRIVATE_KEY_FILE} are set; set one")
    if pem:
        source = f"${ENV_PRIVATE_KEY}"
        return SigningKey.from_pem(_env_pem(pem), source=source, passphrase=passphrase)
    if pem_file:
        return load_private_key_file(pem_file, passphrase=passphrase)
    return default_signing_key(create=create, passphrase=passphrase)


def checked_signing_key(
    path: str | os.PathLike[str] | None = None, *, passphrase: bytes | str | None = None
) -> Callable[[], SigningKey]:
    """Check now what :func:`load_signing_key` would refuse; return how to load the key later.

    For a command that signs only after a long capture (or a ``--raw`` recording): a
    missing, unreadable, shared or malformed key fails before any of that work.  A plain
    Ed25519 PEM (the default kind) is checked without importing cryptography, so loading it
    can still happen later, while probes wait; any other key (encrypted, P-256) is loaded
    now, once - its passphrase is asked for, and checked, before the work too.
    """
    target: Path | None = None
    source = f"${ENV_PRIVATE_KEY}"
    if path is not None:
        target = Path(path).expanduser()
    else:
        pem = os.environ.get(ENV_PRIVATE_KEY) or None
        pem_file = os.environ.get(ENV_PRIVATE_KEY_FILE) or None
        if pem and pem_file:
            raise InputError(f"both {ENV_PRIVATE_KEY} and {ENV_PRIVATE_KEY_FILE} are set; set one")
        if pem_file:
            target = Path(pem_file).expanduser()
        elif pem:
            data = _env_pem(pem)
        else:
            target = default_private_path()
            check_key_folder(target.parent)
            if not target.exists():  # made on first use, when signing
                return lambda: load_signing_key(passphrase=passphrase)
    if target is not None:
        data, info = _read_limited(target, "private key")
        check_private_permissions(target, info.st_mode)
        source = str(target)
    if _is_plain_ed25519_private(_single_pem_block(data, _PEM_PRIVATE)):
        return lambda: load_signing_key(path, passphrase=passphrase)
    key = SigningKey.from_pem(data, source=source, passphrase=passphrase)
    return lambda: key


def default_signing_key(
    *, create: bool = True, passphrase: bytes | str | None = None
) -> SigningKey:
    """The default key; made (Ed25519) with one line on stderr when there is none yet."""
    target = default_private_path()
    check_key_folder(target.parent)
    if not target.exists():
        if not create:
            raise InputError(f"no signing key yet in {target.parent}: run 'envstamp keygen'")
        key = SigningKey.generate(ED25519)
        try:
            store_key(key, target)
        except KeyExistsError:
            pass  # another process made it first: use theirs
        else:
            sys.stderr.write(
                f"envstamp: created signing key {key.keyid[:16]} (ed25519) in {target.parent}\n"
            )
            key.source = str(target)
            return key
    return load_private_key_file(target, passphrase=passphrase)


def trusted_keys() -> list[PublicKey]:
    """The default key's public half and every key in the trusted-keys folder, each once.

    The default key's public half is derived from ``signing.pem`` itself, never read from
    ``signing.pub.pem``: a replaced file would make someone else's signatures "yours".  An
    encrypted default key is derived only when ``ENVSTAMP_PASSPHRASE`` unlocks it (verifying
    never prompts); otherwise it is not trusted (:func:`default_key_locked` says so).  The
    folders and files must be safe from other users (:func:`check_key_folder`): anyone who
    can write there could make their own signatures verify.
    """
    found: list[PublicKey] = []
    default = _default_public_key()
    if default is not None:
        found.append(default)
    folder = trusted_dir()
    if folder.is_dir():
        check_key_folder(folder, parents=False)
        for path in sorted(folder.iterdir()):
            if path.suffix in (".pem", ".pub") and path.is_file():
                check_key_file(path)
                found.append(load_public_key(path))
    return unique_keys(found)


def _default_public_key() -> PublicKey | None:
    """The public half of the default private key, derived from it; None when there is no
    default key, or it is encrypted and no passphrase is set."""
    private = default_private_path()
    check_key_folder(private.parent)
    if not private.exists():
        return None
    check_key_file(private)  # who may replace it matters for trust; who may read it, not here
    data, _ = _read_limited(private, "private key")
    fast = _fast_ed25519_private(data)
    if fast is not None:
        return PublicKey(fast.public_key())
    if _is_encrypted(data):
        passphrase = os.environ.get(ENV_PASSPHRASE) or None
        if passphrase is None:
            return None
        return SigningKey.from_pem(data, source=str(private), passphrase=passphrase).public_key
    return SigningKey.from_pem(data, source=str(private)).public_key


def _is_encrypted(data: bytes) -> bool:
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data


def default_key_locked() -> bool:
    """True when the default key exists but is encrypted and no passphrase is set: its
    public half cannot be derived, so verification does not trust it."""
    private = default_private_path()
    if os.environ.get(ENV_PASSPHRASE) or not private.is_file():
        return False
    try:
        data, _ = _read_limited(private, "private key")
    except InputError:
        return False
    return _is_encrypted(data)


# ------------------------------------------------------------------------ folder safety


def check_key_folder(folder: Path, *, parents: bool = True) -> None:
    """Refuse a key folder (and, with ``parents``, the folder holding it) that another user
    could write to, as ssh refuses such a ``~/.ssh``: owned by someone other than you (or
    root), or writable by group or others.  The folders above them, up to your home folder
    (or ``/`` outside it), must not let others replace them (:func:`_check_ancestors`).
    Missing folders pass (nothing to trust yet).  ``ENVSTAMP_INSECURE_KEY_PERMISSIONS=1``
    skips the check; so does Windows (ACLs)."""
    if _permissions_unchecked():
        return
    for path in (folder, folder.parent) if parents else (folder,):
        _check_safe(path, "folder")
    _check_ancestors(folder.parent if parents else folder)


def check_key_file(path: Path) -> None:
    """Refuse a trusted public key file that another user could replace or edit."""
    if not _permissions_unchecked():
        _check_safe(path, "key file")


def _permissions_unchecked() -> bool:
    return os.name == "nt" or os.environ.get(ENV_INSECURE_PERMISSIONS, "") not in ("", "0")


def _check_safe(path: Path, what: str) -> None:
    try:
        info = path.stat()  # through a symbolic link: what is checked is what is read
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot check {what} {path}: {exc.strerror or exc}") from None
    owner, me = info.st_uid, os.geteuid()
    if owner not in (me, 0):
        named, fix = _through_links(path, f"'chown {me} {{}}'")
        raise InputError(
            f"{what} {named} belongs to another user (uid {owner}, you are {me}): they could "
            f"replace the keys envstamp trusts; use your own folder, or {fix}"
        )
    writable = info.st_mode & 0o022
    if writable:
        mode = stat.S_IMODE(info.st_mode)
        named, fix = _through_links(path, "'chmod go-w {}'")
        raise InputError(
            f"{what} {named} is writable by {_writers(writable)} (mode {mode:04o}): anyone "
            f"who can write there can make their own signatures valid; {fix} (or set "
            f"{ENV_INSECURE_PERMISSIONS}=1 to skip this check)"
        )


def _writers(bits: int) -> str:
    """ "group and others", "group" or "others" for a mode's write bits."""
    if bits & 0o022 == 0o022:
        return "group and others"
    return "group" if bits & 0o020 else "others"


def _through_links(path: Path, command: str) -> tuple[str, str]:
    """How a message names ``path``, and the fix it offers (``command`` formatted with the
    path to change), never a chmod or chown that follows a symbolic link.

    A path that is itself a link is named with its target and gets no command: changing
    the target (a shared folder such as /tmp) is not the fix, pointing the link elsewhere
    is.  A path reached through a linked folder above it gets the command on its real path.
    """
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        real = path
    if path.is_symlink():
        kind = "folder" if real.is_dir() else "file"
        return (
            f"{path} (a symbolic link to {real})",
            f"point {path} at a {kind} only you can write to, or remove the link (changing "
            "modes through it would change its target)",
        )
    if real != path.absolute():
        return f"{path} (really {real})", "run " + command.format(real)
    return str(path), "run " + command.format(path)


def _check_ancestors(start: Path) -> None:
    """Refuse a folder above ``start`` that someone else could rename or replace entries in.

    As ssh's StrictModes does for the folders above ``~/.ssh``, up to your home folder (or
    ``/`` when ``start`` is outside it), each folder on the way - the link's folders and
    its target's alike - must not be writable by others, nor by a group other than your
    user-private group, unless it is sticky (``/tmp``: nobody may rename what is yours
    there).  Ownership is not required of these folders: CI containers run as root under a
    home that belongs to the runner's user, and refusing that would refuse a common setup.
    """
    try:
        home = Path.home()
    except (KeyError, RuntimeError):  # no home folder known: check up to /
        home = Path("/")
    real_home = _real(home)
    seen: set[Path] = set()
    for chain, stop in ((start.absolute().parents, home), (_real(start).parents, real_home)):
        for folder in chain:
            real = _real(folder)
            if real not in seen:
                seen.add(real)
                _check_ancestor(real, start)
            if folder == stop or real == real_home:
                break


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _check_ancestor(folder: Path, below: Path) -> None:
    try:
        info = folder.stat()
    except OSError:
        return  # missing or unreadable: nothing below it is there to trust either
    if info.st_mode & stat.S_ISVTX or not stat.S_ISDIR(info.st_mode):
        return
    by_others = info.st_mode & 0o002
    by_group = info.st_mode & 0o020 and not _user_private_group(info.st_gid)
    if not (by_others or by_group):
        return
    mode = stat.S_IMODE(info.st_mode)
    who = "others" if by_others else f"group {_group_name(info.st_gid)}"
    if by_others and by_group:
        who = f"group {_group_name(info.st_gid)} and others"
    flags = ("g" if by_group else "") + ("o" if by_others else "")
    raise InputError(
        f"folder {folder}, above {below}, is writable by {who} (mode {mode:04o}): they could "
        f"replace the folders below it and the keys envstamp trusts; run 'chmod {flags}-w "
        f"{folder}' (or set {ENV_INSECURE_PERMISSIONS}=1 to skip this check)"
    )


def _user_private_group(gid: int) -> bool:
    """True for your own primary group named like you (Debian's and Fedora's default: no
    other user is in it), where a group-writable home is safe."""
    try:
        import grp
        import pwd

        me = pwd.getpwuid(os.geteuid())
        return gid == me.pw_gid and grp.getgrgid(gid).gr_name == me.pw_name
    except (ImportError, KeyError):
        return False


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def unique_keys(keys: list[PublicKey]) -> list[PublicKey]:
    """Keys in order, each keyid once."""
    seen: dict[str, PublicKey] = {}
    for key in keys:
        seen.setdefault(key.keyid, key)
    return list(seen.values())


# -------------------------------------------------------------------------------- writing


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` and the folder holding it, mode 0700, where they are missing.

    Existing folders are checked (:func:`check_key_folder`), never changed: a loose mode is
    the user's to fix, and a chmod through a symbolic link would change whatever it points
    to.  ``mkdir`` with 0700 needs no chmod after it: the umask only takes bits away.
    """
    try:
        folder.parent.parent.mkdir(parents=True, exist_ok=True)
        for path in (folder.parent, folder):
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=0o700)
    except OSError as exc:
        raise InputError(f"cannot create {folder}: {exc.strerror or exc}") from None
    check_key_folder(folder)


def store_key(
    key: SigningKey,
    private_path: str | os.PathLike[str],
    *,
    passphrase: bytes | str | None = None,
    force: bool = False,
) -> tuple[Path, Path]:
    """Write the private key (0600, never over an existing one unless ``force``) and its
    public key beside it.  The default key folder is created 0700.  Returns both paths."""
    target = Path(private_path).expanduser()
    if target.parent == default_key_dir():
        ensure_private_dir(target.parent)
    elif not target.parent.is_dir():
        raise InputError(f"cannot write {target}: folder {target.parent} does not exist")
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    _write_private(target, key.private_pem(secret), force=force)
    public = public_path_for(target)
    from envstamp.runner import write_atomic

    write_atomic(public, key.public_key.pem().encode("ascii"), mode=0o644)
    return target, public


def _write_private(target: Path, data: bytes, *, force: bool) -> None:
    # Write a private temporary file (O_EXCL, 0600), then link it into place: linking fails
    # when the target exists, so no key is overwritten and no reader sees half a key.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            from envstamp.runner.files import refuse_special

            refuse_special(target)  # never rename a key over a device node (/dev/null)
            tmp.replace(target)
        else:
            _link_exclusive(tmp, target, data)
    except KeyExistsError:
        raise
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _exists(target: Path) -> KeyExistsError:
    return KeyExistsError(f"a key already exists at {target}; use --force to replace it")


def _link_exclusive(tmp: Path, target: Path, data: bytes) -> None:
    try:
        os.link(tmp, target)
        return
    except FileExistsError:
        raise _exists(target) from None
    except OSError:
        pass  # no hard links on this file system: create the target itself exclusively
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _exists(target) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def retire_public_key(private_path: Path) -> Path | None:
    """Move the public half of a key about to be replaced into ``retired/``."""
    public = public_path_for(private_path)
    if not public.is_file():
        return None
    try:
        old = load_public_key(public)
    except InputError:
        return None
    folder = private_path.parent / RETIRED_FOLDER
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        destination = folder / f"{old.keyid[:16]}.pub.pem"
        public.replace(destination)
    except OSError as exc:
        raise InputError(f"cannot keep the old public key in {folder}: {exc.strerror}") from None
    return destination
