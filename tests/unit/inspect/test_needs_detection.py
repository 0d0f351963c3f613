"""What a binary needs from its image at run time, told from its bytes and the image's config and files."""

from __future__ import annotations

from collections.abc import Mapping

from pytest_rustimage.inspect.facts import ImageConfig
from pytest_rustimage.inspect.imagefs import ImageFs, Node
from pytest_rustimage.inspect.needs import BinaryScan, Need, find_needs, scan_binary

# the strings the crates put in a binary, packed as rustc packs them (no NULs between)
PROBE = b"SSL_CERT_FILESSL_CERT_DIR/etc/ssl/certs/ca-certificates.crt/etc/pki/tls/certs/ca-bundle.crt"
JIFF = b"/usr/share/zoneinfo/usr/share/lib/zoneinfo/etc/zoneinfoTZDIR invalid TZif header TZif"
GETADDRINFO = b"/etc/nsswitch.conf\x00/etc/gai.conf\x00GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36."
STD = b"\x7fELF failed to lookup address information: /etc/resolv.conf HOME getaddrinfo getpwuid_r"


def config(user: str = "", entrypoint: tuple[str, ...] = (), cmd: tuple[str, ...] = (), **env: str) -> ImageConfig:
    return ImageConfig(user, entrypoint, cmd, env, "/", (), {})


def fs(files: Mapping[str, bytes] = {}, links: Mapping[str, str] = {}) -> ImageFs:
    nodes = {path: Node("file", size=len(data), data=data) for path, data in files.items()}
    nodes.update({path: Node("link", target=target) for path, target in links.items()})
    return ImageFs(nodes)


def needs(scan: BinaryScan, image: ImageFs, conf: ImageConfig | None = None, static: bool = True) -> dict[str, Need]:
    found = find_needs(scan, static_glibc=static, config=conf or config(), fs=image)
    return {need.kind: need for need in found}


def test_plain_std_shows_no_need() -> None:
    scan = scan_binary(STD)
    assert scan == BinaryScan(tzif_records=0)
    assert needs(scan, fs()) == {}


def test_openssl_probe_and_jiff_are_told_by_their_strings() -> None:
    scan = scan_binary(b"\x00".join((STD, PROBE, JIFF)))
    assert scan.cert_env and scan.cert_files == (
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    )
    assert scan.zoneinfo_dirs == ("/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo")
    assert scan.tzif_records == 2 and not scan.getaddrinfo


def test_on_scratch_ca_certificates_and_time_zones_are_missing() -> None:
    found = needs(scan_binary(PROBE + JIFF), fs())
    assert set(found) == {"CA certificates", "time zones"}
    certs = found["CA certificates"]
    assert certs.found_at is None and "/etc/ssl/certs/ca-certificates.crt" in certs.looked_for
    assert "SSL_CERT_FILE" in certs.evidence and "ca-certificates" in certs.fix
    assert found["time zones"].found_at is None and "tzdata" in found["time zones"].fix


def test_a_bundle_through_a_link_and_a_zoneinfo_folder_satisfy_them() -> None:
    image = fs(
        {"etc/ssl/certs/real.crt": b"-----BEGIN CERTIFICATE-----", "usr/share/zoneinfo/Europe/Paris": b"TZif2"},
        links={"etc/ssl/certs/ca-certificates.crt": "real.crt"},
    )
    found = needs(scan_binary(PROBE + JIFF), image)
    assert found["CA certificates"].found_at == "/etc/ssl/certs/ca-certificates.crt"
    assert found["time zones"].found_at == "/usr/share/zoneinfo"


def test_an_empty_bundle_or_an_empty_folder_is_no_bundle() -> None:
    image = ImageFs(
        {"etc/ssl/certs/ca-certificates.crt": Node("file", size=0), "usr/share/zoneinfo/Europe": Node("dir")}
    )
    found = needs(scan_binary(PROBE + JIFF), image)
    assert found["CA certificates"].found_at is None and found["time zones"].found_at is None


def test_ssl_cert_file_pointing_nowhere_fails_even_with_a_standard_bundle() -> None:
    image = fs({"etc/ssl/certs/ca-certificates.crt": b"pem"})
    found = needs(scan_binary(PROBE), image, config(SSL_CERT_FILE="/certs/bundle.pem"))["CA certificates"]
    assert found.found_at is None and found.looked_for == ("SSL_CERT_FILE=/certs/bundle.pem",)
    assert "point SSL_CERT_FILE" in found.fix
    dirs = config(SSL_CERT_DIR="/nowhere:/etc/ssl/certs")
    assert needs(scan_binary(PROBE), image, dirs)["CA certificates"].found_at == "/etc/ssl/certs"


def test_a_bundled_time_zone_database_needs_no_files() -> None:
    found = needs(scan_binary(JIFF + b"TZif" * 600), fs())["time zones"]
    assert found.found_at is not None and "the binary itself" in found.found_at


def test_tzdir_in_the_config_is_looked_at_first() -> None:
    found = needs(scan_binary(JIFF), fs({"zones/UTC": b"TZif"}), config(TZDIR="/zones"))["time zones"]
    assert found.found_at == "/zones" and found.looked_for[0] == "TZDIR=/zones"


def test_a_user_name_must_be_in_etc_passwd() -> None:
    missing = needs(BinaryScan(), fs(), config(user="app"))["user"]
    assert missing.found_at is None and "(/etc/passwd is not in the image)" in missing.fix
    passwd = fs({"etc/passwd": b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"})
    assert needs(BinaryScan(), passwd, config(user="app"))["user"].found_at == "/etc/passwd"
    group = needs(BinaryScan(), passwd, config(user="app:staff"))["user"]
    assert group.found_at is None and "staff in /etc/group" in group.fix


def test_a_numeric_user_is_listed_and_satisfied() -> None:
    found = needs(BinaryScan(), fs(), config(user="65534:65534"))["user"]
    assert found.satisfied
    assert "user" not in needs(BinaryScan(), fs(), config(user=""))


def test_static_glibc_getaddrinfo_resolves_with_the_builtin_services() -> None:
    scan = scan_binary(GETADDRINFO)
    assert scan.getaddrinfo and scan.glibc_version == "2.36"
    found = needs(scan, fs())["name resolution"]
    assert found.found_at is not None and "no /etc/nsswitch.conf" in found.found_at
    debian = fs({"etc/nsswitch.conf": b"passwd: files\nhosts:          files dns\n"})
    assert needs(scan, debian)["name resolution"].satisfied
    assert "name resolution" not in needs(scan, fs(), static=False)  # a dynamic binary loads libnss_*.so itself


def test_static_glibc_getaddrinfo_fails_where_no_builtin_service_is_named() -> None:
    scan = scan_binary(GETADDRINFO)
    mdns = fs({"etc/nsswitch.conf": b"hosts: mdns4_minimal [NOTFOUND=return] myhostname # only\n"})
    found = needs(scan, mdns)["name resolution"]
    assert found.found_at is None and "files dns" in found.fix and "musl" in found.fix


def test_static_glibc_before_2_34_or_of_no_stated_version_cannot_resolve() -> None:
    old = needs(scan_binary(GETADDRINFO.replace(b"2.36", b"2.31")), fs())["name resolution"]
    assert old.found_at is None and "before 2.34" in old.evidence
    unstated = BinaryScan(getaddrinfo=True)
    assert needs(unstated, fs())["name resolution"].found_at is None


def test_a_shell_form_command_needs_the_shell() -> None:
    shell = config(cmd=("/bin/sh", "-c", "/usr/local/bin/hello --version"))
    found = needs(BinaryScan(), fs(), shell)["shell"]
    assert found.found_at is None and "CMD" in found.evidence and "exec form" in found.fix
    assert needs(BinaryScan(), fs({"bin/sh": b"\x7fELF"}), shell)["shell"].found_at == "/bin/sh"
    exec_form = config(entrypoint=("/usr/local/bin/hello",), cmd=("/bin/sh", "-c", "x"))  # CMD: arguments only
    assert "shell" not in needs(BinaryScan(), fs(), exec_form)
