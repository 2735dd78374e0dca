"""BGZF files and their tabix or CSI indexes for tests, through the htslib inside cyvcf2 (no htslib tools needed)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import cyvcf2.cyvcf2 as _c

_hts = ctypes.CDLL(_c.__file__)
_hts.bgzf_open.restype = ctypes.c_void_p
_hts.bgzf_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
_hts.bgzf_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
_hts.bgzf_write.restype = ctypes.c_ssize_t
_hts.bgzf_close.argtypes = [ctypes.c_void_p]
_hts.tbx_index_build.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]


def bgzip(text: str, path: Path) -> Path:
    handle = _hts.bgzf_open(str(path).encode(), b"w")
    data = text.encode()
    assert _hts.bgzf_write(handle, data, len(data)) == len(data)
    assert _hts.bgzf_close(handle) == 0
    return path


def index(path: Path, csi: bool = False) -> Path:
    conf = ctypes.c_void_p.in_dll(_hts, "tbx_conf_vcf")
    assert _hts.tbx_index_build(str(path).encode(), 14 if csi else 0, ctypes.byref(conf)) == 0
    return path.with_name(path.name + (".csi" if csi else ".tbi"))
