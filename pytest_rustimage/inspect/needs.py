"""What a binary will look for in its image at run time, and whether the image has it: :class:`Need`.

A binary that builds, starts and prints its version can still fail the first time it does its job,
because a file it reads is not in the image: the CA certificates of a TLS client, the time-zone
database, the user its image runs as, the shell of a shell-form command. Each is told from two
things, no container run: the binary's bytes (the strings the crates that read those files put in
it, which survive ``strip``) and the image (its config and its merged files,
:class:`~pytest_rustimage.inspect.imagefs.ImageFs`). What each need is, what shows it and what
satisfies it is in docs/needs.md; :func:`find_needs` returns every need detected, satisfied or not.

The evidence is chosen so that a binary of plain ``std`` (or axum and tokio) shows no CA or
time-zone need: ``std`` names neither ``SSL_CERT_FILE`` nor ``/usr/share/zoneinfo``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pytest_rustimage.inspect.facts import ImageConfig
from pytest_rustimage.inspect.imagefs import FsProblem, ImageFs

# openssl-probe's candidates on Linux (0.1 and 0.2; rustls-native-certs and native-tls use it), in its order
CERT_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
    "/opt/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/certs/cacert.pem",
)
CERT_DIRS = ("/etc/ssl/certs", "/etc/pki/tls/certs", "/etc/security/certificates")
CERT_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")
# where jiff, chrono and glibc look for the system's time-zone database
ZONEINFO_DIRS = ("/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo")
BUNDLED_TZIF = 50  # a binary holding this many TZif records carries its own database (jiff's tzdb-bundle)
# the NSS services glibc 2.34 and later builds into libc itself (a static binary needs no libnss_*.so for them)
BUILTIN_NSS = frozenset({"files", "dns"})
BUILTIN_NSS_SINCE = (2, 34)
# the banner static glibc links with getaddrinfo ("GNU C Library (Debian GLIBC 2.36-9) stable release
# version 2.36."), else a bare version string
_GLIBC_VERSION = re.compile(rb"GNU C Library [^\x00\n]{0,80}? version (2\.\d{1,2})|\x00(2\.\d{1,2})\x00")


@dataclass(frozen=True)
class BinaryScan:
    """What the binary's bytes show it reads at run time (see :func:`scan_binary`)."""

    cert_files: tuple[str, ...] = ()  # openssl-probe's candidate files named in it
    cert_env: bool = False  # it reads SSL_CERT_FILE
    zoneinfo_dirs: tuple[str, ...] = ()
    tzif_records: int = 0  # "TZif" in it: the magic a tz parser checks, or a bundled database
    getaddrinfo: bool = False  # glibc's getaddrinfo (its /etc/gai.conf) with the NSS code (/etc/nsswitch.conf)
    glibc_version: str | None = None  # as a static glibc states it ("2.36"), when it does


def scan_binary(data: bytes) -> BinaryScan:
    """The markers of run-time file needs in a binary's bytes (a few substring searches)."""
    match = _GLIBC_VERSION.search(data)
    return BinaryScan(
        cert_files=tuple(path for path in CERT_FILES if path.encode() in data),
        cert_env=b"SSL_CERT_FILE" in data,
        zoneinfo_dirs=tuple(path for path in ZONEINFO_DIRS if path.encode() in data),
        tzif_records=data.count(b"TZif"),
        getaddrinfo=b"/etc/gai.conf" in data and b"/etc/nsswitch.conf" in data,
        glibc_version=(match.group(1) or match.group(2)).decode() if match else None,
    )


@dataclass(frozen=True)
class Need:
    """One thing the binary (or the image's command) needs from the image. ``found_at``: where the image
    has it, None when it does not (the check fails)."""

    kind: str  # one of KINDS
    evidence: str  # what shows the need
    looked_for: tuple[str, ...]
    found_at: str | None
    fix: str

    @property
    def satisfied(self) -> bool:
        return self.found_at is not None

    def text(self) -> str:
        where = f"found at {self.found_at}" if self.found_at else "found nowhere"
        return f"{self.kind}: looked for {', '.join(self.looked_for)}; {where}"


KINDS = ("CA certificates", "time zones", "user", "name resolution", "shell")


def find_needs(scan: BinaryScan, *, static_glibc: bool, config: ImageConfig, fs: ImageFs) -> tuple[Need, ...]:
    """Every need detected, satisfied or not, in :data:`KINDS` order."""
    found = (
        _certificates(scan, config, fs),
        _time_zones(scan, config, fs),
        _user(config, fs),
        _resolution(scan, fs) if static_glibc else None,
        _shell(config, fs),
    )
    return tuple(need for need in found if need is not None)


def _file_with_bytes(fs: ImageFs, path: str) -> bool:
    try:
        node = fs.node(fs.resolve(path))
    except FsProblem:
        return False
    return node is not None and node.kind == "file" and node.size > 0


def _dir_with_entries(fs: ImageFs, path: str) -> bool:
    """Whether ``path`` is a folder (links followed) with a file that has bytes somewhere under it."""
    if not fs.is_dir(path):
        return False
    prefix = fs.resolve(path).rstrip("/") + "/"
    return any(p.startswith(prefix) and _file_with_bytes(fs, p) for p in fs.paths())


def _certificates(scan: BinaryScan, config: ImageConfig, fs: ImageFs) -> Need | None:
    if not (scan.cert_env and scan.cert_files):
        return None
    evidence = f"the binary names SSL_CERT_FILE and {scan.cert_files[0]} (openssl-probe's CA bundle search)"
    fix = (
        "add a CA bundle to the image: on a Debian runtime `apt-get install ca-certificates`; on scratch "
        "`COPY --from=BUILDER /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/`; or bundle the roots "
        "in the binary (webpki-roots)"
    )
    env = {name: config.env[name] for name in CERT_ENV if name in config.env}
    if env:  # rustls-native-certs then reads only these
        looked = tuple(f"{name}={value}" for name, value in env.items())
        file = env.get("SSL_CERT_FILE")
        hits = [file] if file and _file_with_bytes(fs, file) else []
        hits += [d for d in env.get("SSL_CERT_DIR", "").split(":") if d and _dir_with_entries(fs, d)]
        if not hits:
            fix = f"point {' and '.join(env)} at the image's CA bundle, or add the bundle there; " + fix
        evidence += "; the image's config sets " + ", ".join(looked)
        return Need("CA certificates", evidence, looked, hits[0] if hits else None, fix)
    files = tuple(path for path in CERT_FILES if path in scan.cert_files)
    hit = next((p for p in files if _file_with_bytes(fs, p)), None)
    hit = hit or next((d for d in CERT_DIRS if _dir_with_entries(fs, d)), None)
    return Need("CA certificates", evidence, files + CERT_DIRS, hit, fix)


def _time_zones(scan: BinaryScan, config: ImageConfig, fs: ImageFs) -> Need | None:
    if not (scan.zoneinfo_dirs and scan.tzif_records):
        return None
    evidence = f"the binary names {scan.zoneinfo_dirs[0]} and reads TZif files"
    fix = (
        "add the time-zone database: on a Debian runtime `apt-get install tzdata`; on scratch "
        "`COPY --from=BUILDER /usr/share/zoneinfo /usr/share/zoneinfo`; or bundle it in the binary "
        "(jiff's `tzdb-bundle-always`, chrono-tz)"
    )
    looked = (*(("TZDIR=" + config.env["TZDIR"],) if "TZDIR" in config.env else ()), *scan.zoneinfo_dirs)
    if scan.tzif_records >= BUNDLED_TZIF:
        return Need("time zones", evidence, looked, f"the binary itself ({scan.tzif_records} TZif records)", fix)
    dirs = ((config.env["TZDIR"],) if "TZDIR" in config.env else ()) + scan.zoneinfo_dirs
    hit = next((d for d in dirs if _dir_with_entries(fs, d)), None)
    return Need("time zones", evidence, looked, hit, fix)


def _passwd_names(fs: ImageFs, path: str) -> set[str] | None:
    try:
        text = fs.read(path).decode("utf-8", "replace")
    except FsProblem:
        return None
    return {line.split(":", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def _user(config: ImageConfig, fs: ImageFs) -> Need | None:
    user, _, group = config.user.partition(":")
    if not user:
        return None
    evidence = f"the image's USER is {config.user}"
    named = [
        (name, path) for name, path in ((user, "/etc/passwd"), (group, "/etc/group")) if name and not name.isdigit()
    ]
    if not named:  # both engines start it with HOME=/ when /etc/passwd has no entry for it
        return Need("user", evidence, ("nothing: a numeric user needs no /etc/passwd entry",), "the numeric ids", "")
    missing = []
    for name, path in named:
        names = _passwd_names(fs, path)
        if names is None or name not in names:
            missing.append(
                f"an entry for {name} in {path}" + ("" if names is not None else f" ({path} is not in the image)")
            )
    fix = (
        f"use a numeric USER (e.g. `USER 65534:65534`), or give the image {' and '.join(missing)} "
        "(the engines refuse to start a container whose user name they cannot find)"
    )
    found = None if missing else ", ".join(path for _, path in named)
    return Need("user", evidence, tuple(f"{name} in {path}" for name, path in named), found, fix)


def _hosts_services(fs: ImageFs) -> tuple[str, ...] | None:
    """The services of nsswitch.conf's ``hosts:`` line, None when the image has no nsswitch.conf."""
    try:
        text = fs.read("/etc/nsswitch.conf").decode("utf-8", "replace")
    except FsProblem:
        return None
    for line in text.splitlines():
        key, _, rest = line.split("#", 1)[0].partition(":")
        if key.strip() == "hosts":
            return tuple(word for word in rest.split() if not word.startswith("["))
    return ()


def _resolution(scan: BinaryScan, fs: ImageFs) -> Need | None:
    if not scan.getaddrinfo:
        return None
    version = scan.glibc_version
    evidence = f"a static glibc {version or '(version not stated)'} binary with glibc's NSS code (getaddrinfo)"
    fix = "build with musl (no NSS), or use a runtime with glibc's shared libraries (the chef strategy)"
    services = _hosts_services(fs)
    conf = "/etc/nsswitch.conf hosts: " + " ".join(services) if services is not None else "no /etc/nsswitch.conf"
    looked = (
        "glibc 2.34 or later (files and dns built in)",
        "files or dns on /etc/nsswitch.conf's hosts line, or no nsswitch.conf",
        "/etc/hosts and /etc/resolv.conf (the engines mount them)",
    )
    builtin = version is not None and tuple(int(p) for p in version.split(".")) >= BUILTIN_NSS_SINCE
    if not builtin:
        why = "glibc before 2.34 loads libnss_files.so.2 and libnss_dns.so.2, which a static binary cannot"
        unstated = "it states no glibc version, so whether its files and dns services are built in cannot be told"
        told = f"glibc {version}: {why}" if version else unstated
        return Need("name resolution", f"{evidence}; {told}", looked, None, fix)
    usable = services is None or bool(BUILTIN_NSS.intersection(services))  # absent: glibc's default "files dns"
    found = f"glibc {version}'s built-in files and dns services ({conf})" if usable else None
    if not usable:
        fix = "put `files dns` on /etc/nsswitch.conf's hosts line; " + fix
    return Need("name resolution", f"{evidence}; {conf}", looked, found, fix)


def _shell(config: ImageConfig, fs: ImageFs) -> Need | None:
    command = config.entrypoint or config.cmd
    if len(command) < 2 or command[1] != "-c" or not command[0].endswith("sh"):
        return None
    which = "ENTRYPOINT" if config.entrypoint else "CMD"
    evidence = f"{which} is in shell form: {' '.join(command)}"
    fix = f'write {which} in exec form (`{which} ["/path/to/binary", "ARG"]`), or use a runtime with {command[0]}'
    return Need("shell", evidence, (command[0],), command[0] if fs.exists(command[0]) else None, fix)
