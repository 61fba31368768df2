"""The Windows version resource (Explorer ▸ Properties ▸ Details) for front-desk.exe.

The spec writes it to build/ with the app's version when it builds on Windows and passes it
to EXE(version=...). PyInstaller reads this text with its own loader
(PyInstaller.utils.win32.versioninfo.load_version_info_from_text_file).
"""

from __future__ import annotations

import re
from pathlib import Path

COMPANY = "Front Desk"
PRODUCT = "Front Desk"
DESCRIPTION = "Front Desk for clinics"
EXE_NAME = "front-desk.exe"

_TEMPLATE = """# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers},
    prodvers={numbers},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable('040904B0', [
        StringStruct('CompanyName', {company!r}),
        StringStruct('FileDescription', {description!r}),
        StringStruct('FileVersion', {version!r}),
        StringStruct('InternalName', 'front-desk'),
        StringStruct('LegalCopyright', {copyright!r}),
        StringStruct('OriginalFilename', {exe!r}),
        StringStruct('ProductName', {product!r}),
        StringStruct('ProductVersion', {version!r})
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def version_numbers(version: str) -> tuple[int, int, int, int]:
    """ "1.2.3" or "1.2.3rc1" -> (1, 2, 3, 0): Windows wants four integers."""
    parts: list[int] = []
    for piece in version.split(".")[:4]:
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    if not parts:
        raise ValueError(f"{version!r} does not start with a number")
    padded = [*parts, 0, 0, 0, 0][:4]
    return padded[0], padded[1], padded[2], padded[3]


def version_info_text(version: str, year: int) -> str:
    return _TEMPLATE.format(
        numbers=version_numbers(version),
        company=COMPANY,
        description=DESCRIPTION,
        version=version,
        copyright=f"© {year} {COMPANY}",
        exe=EXE_NAME,
        product=PRODUCT,
    )


def write_version_info(target: Path, version: str, year: int) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(version_info_text(version, year), encoding="utf-8")
    return target
