#!/usr/bin/env python3
"""Reads an s4-mamba checkpoint (version 2) with the Python standard library only.

A checkpoint at PATH is PATH.json (a manifest: config, meta, the tensor file's name, size and
SHA-256) and the safetensors file it names. This reader is independent of the TypeScript code:
it parses the manifest and the safetensors header itself, checks them, and returns each tensor as
(shape, flat list of float or int). With torch, `torch.tensor(values).reshape(shape)` makes a
tensor, and the names not under "optim." form the model's state dict.

Command line:
  read_checkpoint.py PATH            prints {"config", "meta", "tensors": {name: {"dtype", "shape",
                                     "bits"}}} as JSON; bits are the raw 32-bit words as unsigned
                                     integers, so NaN and -0 survive the trip.
"""
import hashlib
import json
import os
import struct
import sys

FORMAT = "s4-mamba-checkpoint"
DTYPES = {"F32": "f", "I32": "i"}


class CheckpointError(ValueError):
    pass


def read_manifest(path):
    with open(path + ".json", "rb") as f:
        manifest = json.loads(f.read().decode("utf-8"))
    if manifest.get("format") != FORMAT:
        raise CheckpointError("%s.json: format is %r, expected %r" % (path, manifest.get("format"), FORMAT))
    if manifest.get("version") != 2:
        raise CheckpointError("%s.json: version is %r; this reader takes version 2" % (path, manifest.get("version")))
    name = manifest.get("binary")
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".safetensors"):
        raise CheckpointError("%s.json: binary %r is not a plain .safetensors file name" % (path, name))
    return manifest


def parse_safetensors(data, where="safetensors data"):
    """{name: (dtype, shape, raw bytes)} and the metadata, after checking the header."""
    if len(data) < 8:
        raise CheckpointError("%s: shorter than the 8-byte header length" % where)
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise CheckpointError("%s: header length %d runs past the end (%d bytes)" % (where, n, len(data)))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise CheckpointError("%s: header is not a JSON object" % where)
    body = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    spans = []
    for name, entry in header.items():
        dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES:
            raise CheckpointError("%s: tensor %r has dtype %r, expected F32 or I32" % (where, name, dtype))
        size = 1
        for s in shape:
            if not isinstance(s, int) or s < 0:
                raise CheckpointError("%s: tensor %r has a bad shape %r" % (where, name, shape))
            size *= s
        if not 0 <= begin <= end <= len(body) or end - begin != 4 * size:
            raise CheckpointError("%s: tensor %r: data_offsets [%d, %d] do not fit shape %r" % (where, name, begin, end, shape))
        spans.append((begin, end, name, dtype, shape))
    spans.sort()
    at = 0
    for begin, end, name, _, _ in spans:
        if begin != at:
            raise CheckpointError("%s: tensor %r begins at %d, expected %d (gap or overlap)" % (where, name, begin, at))
        at = end
    if at != len(body):
        raise CheckpointError("%s: %d bytes at the end belong to no tensor" % (where, len(body) - at))
    tensors = {name: (dtype, shape, body[begin:end]) for begin, end, name, dtype, shape in spans}
    return tensors, metadata


def read_raw(path):
    """(manifest, {name: (dtype, shape, raw little-endian bytes)}), size and checksum checked."""
    manifest = read_manifest(path)
    tensor_file = os.path.join(os.path.dirname(path), manifest["binary"])
    with open(tensor_file, "rb") as f:
        data = f.read()
    if len(data) != manifest["byteLength"]:
        raise CheckpointError("%s: %d bytes, the manifest says %d" % (tensor_file, len(data), manifest["byteLength"]))
    if hashlib.sha256(data).hexdigest() != manifest["checksum"]:
        raise CheckpointError("%s: SHA-256 does not match the manifest" % tensor_file)
    raw, _ = parse_safetensors(data, tensor_file)
    return manifest, raw


def read_checkpoint(path):
    """(manifest, {name: (dtype, shape, flat values)}) for the checkpoint at PATH."""
    manifest, raw = read_raw(path)
    tensors = {}
    for name, (dtype, shape, chunk) in raw.items():
        values = list(struct.unpack("<%d%s" % (len(chunk) // 4, DTYPES[dtype]), chunk))
        tensors[name] = (dtype, shape, values)
    return manifest, tensors


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: read_checkpoint.py PATH   (the checkpoint's path without .json)\n")
        return 2
    manifest, raw = read_raw(argv[1])
    out = {}
    for name, (dtype, shape, chunk) in raw.items():
        bits = list(struct.unpack("<%dI" % (len(chunk) // 4), chunk))
        out[name] = {"dtype": dtype, "shape": shape, "bits": bits}
    json.dump({"config": manifest["config"], "meta": manifest["meta"], "tensors": out}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
