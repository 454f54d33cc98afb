"""Writes the golden .npy files the tensor tests read: numpy's own output for every dtype Quanta supports.

Run from this folder with numpy installed: python3 generate.py
Values follow NpyTest.expected(): v[i] = (i * 37 % 101) - 50, floats divided by 4, with specials
(-0.0, inf, -inf, nan) at positions 1 to 4 for floats and the type's min and max at 0 and 1 for integers.
"""
import numpy as np

SHAPE = (2, 3, 4)


def values(dtype):
    n = int(np.prod(SHAPE))
    base = np.array([(i * 37 % 101) - 50 for i in range(n)], dtype=np.int64)
    if np.issubdtype(dtype, np.floating):
        v = (base / 4.0).astype(dtype)
        v[1], v[2], v[3], v[4] = -0.0, np.inf, -np.inf, np.nan
    elif np.issubdtype(dtype, np.complexfloating):
        v = (base / 4.0 + 1j * (-base / 8.0)).astype(dtype)
    elif dtype == np.bool_:
        v = (base % 3 == 0)
    else:
        info = np.iinfo(dtype)
        v = base.astype(dtype)  # wraps negatives for unsigned types
        v[0], v[1] = info.min, info.max
    return v.reshape(SHAPE)


for name in ["float16", "float32", "float64", "int8", "int16", "int32", "int64",
             "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128"]:
    np.save(f"{name}.npy", values(np.dtype(name)))

np.save("float32_fortran.npy", np.asfortranarray(values(np.dtype("float32"))))
np.save("int16_bigendian.npy", values(np.dtype("int16")).astype(">i2"))
np.save("float64_bigendian_fortran.npy", np.asfortranarray(values(np.dtype("float64")).astype(">f8")))
np.save("float32_scalar.npy", np.float32(2.5))
np.save("int64_empty.npy", np.zeros((0, 3), dtype=np.int64))
for version in [(2, 0), (3, 0)]:
    with open(f"float32_v{version[0]}.npy", "wb") as f:
        np.lib.format.write_array(f, values(np.dtype("float32")), version=version)
