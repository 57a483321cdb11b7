"""Reading an .npz archive (a cgan checkpoint) with every size checked before data is read.

``np.load`` trusts each member's .npy header: a header that claims shape (2**40,)
allocates (or fails with MemoryError) before a byte is read, and a deflated member is
inflated whole before anyone looks at its shape (a 9 MB file can inflate to gigabytes).
Here the sizes come first, from the headers alone:

1. the zip directory's declared (uncompressed) sizes of all members together must fit a
   budget derived from the file's size (``max_ratio`` times it, plus ``slack``): a stored
   archive, as ``np.savez`` writes, is always within it;
2. each member's .npy header (read with NumPy's bounded header parser) must describe an
   array of a plain dtype whose byte count is exactly what the zip directory declares;
3. only then is the array allocated and filled in chunks: the zip reader stops at the
   declared size and checks the CRC, so no member yields more than was checked.

Peak memory is therefore the arrays themselves (at most the budget) plus one chunk.
Every refusal is a ValueError; pickled (object) members are refused, never loaded.
"""
import math
import os
import zipfile

import numpy as np
from numpy.lib import format as npformat

__all__ = ["read_npz"]

_CHUNK = 1 << 20
_MAX_HEADER = 10_000  # np.load's own default limit on a header's length
_PLAIN_KINDS = "biufcU"  # bool, integers, floats, complex, unicode text


def read_npz(path, max_ratio=4.0, slack=1 << 20):
    """Every array of the .npz at `path`, as a dict name -> ndarray (names without .npy).

    The members' uncompressed sizes together may be at most
    ``max_ratio * file size + slack`` bytes (float weights hardly compress, so an honest
    deflated archive is far inside it); ValueError before anything is read otherwise.
    """
    budget = max_ratio * os.path.getsize(path) + slack
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > budget:
            raise ValueError(f"the archive's members declare {declared} bytes, more than "
                             f"{max_ratio:g} times the file's size ({os.path.getsize(path)} "
                             f"bytes) allows; refusing to inflate it")
        arrays = {}
        for info in members:
            name = _array_name(info.filename)
            if name in arrays:
                raise ValueError(f"the archive holds two members named {info.filename!r}")
            with archive.open(info) as f:
                arrays[name] = _read_member(f, info)
    return arrays


def _array_name(filename):
    if not filename.endswith(".npy"):
        raise ValueError(f"member {filename!r} is not an .npy array")
    return filename[:-len(".npy")]


def _read_member(f, info):
    """The array in the open member f, its header checked against info.file_size."""
    shape, fortran, dtype = _read_header(f, info.filename)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    header_len = f.tell()
    if header_len + nbytes != info.file_size:
        raise ValueError(f"member {info.filename!r}: its header describes {nbytes} bytes of "
                         f"data (shape {shape}, dtype {dtype}) but the archive holds "
                         f"{info.file_size - header_len}")
    order_shape = shape[::-1] if fortran else shape
    out = np.empty(order_shape, dtype)
    view = memoryview(out.reshape(-1).view(np.uint8)) if nbytes else None
    done = 0
    while done < nbytes:
        chunk = f.read(min(_CHUNK, nbytes - done))
        if not chunk:
            raise ValueError(f"member {info.filename!r} ends after {done} of {nbytes} bytes")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)
    return out.T if fortran else out


def _read_header(f, filename):
    """(shape, fortran_order, dtype) of the .npy stream f, positioned at its data."""
    try:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f, max_header_size=_MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(f, max_header_size=_MAX_HEADER)
        else:
            raise ValueError(f".npy format version {version} is not supported")
    except ValueError as e:
        raise ValueError(f"member {filename!r}: bad .npy header ({e})") from e
    if dtype.hasobject:
        raise ValueError(f"member {filename!r} holds pickled (object) data, which a cgan "
                         f"checkpoint never does; refusing to load it")
    if dtype.kind not in _PLAIN_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"member {filename!r} has dtype {dtype}, not a plain number or text")
    if any(d < 0 for d in shape):
        raise ValueError(f"member {filename!r} has a negative dimension in shape {shape}")
    return shape, fortran, dtype
