"""A llama-architecture GGUF of any size with random weights, for speed measurements only.

build/prove-gpu needs a model big enough that a GPU beats 16 CPU cores at decoding, on a
machine that can download nothing and carry little: the real fixtures are either tiny
(stories260K, 1 MB, faster on the CPU) or too big to carry (SmolLM2, 98 MB). Decode speed depends
on the shapes and the quantization, not on what the weights say, so random weights of the shape
of a 1B model measure what a 1B model would; the words they produce mean nothing. The tokenizer
is stories260K's (512 tokens), copied whole.

Needs numpy and the gguf package (gguf-py, from PyPI or llama.cpp's own tree).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Shape:
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_ctx: int = 2048

    @property
    def params(self) -> int:
        head = self.n_embd // self.n_head
        attn = self.n_embd * (self.n_embd + 2 * self.n_head_kv * head + self.n_embd)
        return self.n_layer * (attn + 3 * self.n_embd * self.n_ff)


# About a billion parameters in the blocks, the shape of TinyLlama-1.1B: Q8_0 is about 1.1 GB.
ONE_B = Shape(n_layer=22, n_embd=2048, n_head=32, n_head_kv=4, n_ff=5632)
TINY = Shape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_ctx=256)  # for tests


def write(path: Path, tokenizer_from: Path, shape: Shape = ONE_B, *, quantize: bool = True) -> Path:
    """Write the model; tokenizer_from is a llama GGUF whose tokenizer is copied (stories260K)."""
    import gguf
    import numpy as np

    source = gguf.GGUFReader(str(tokenizer_from))
    tokens = [
        bytes(source.fields["tokenizer.ggml.tokens"].parts[i]) for i in _items(source, "tokens")
    ]
    scores = [
        float(source.fields["tokenizer.ggml.scores"].parts[i][0]) for i in _items(source, "scores")
    ]
    types = [
        int(source.fields["tokenizer.ggml.token_type"].parts[i][0])
        for i in _items(source, "token_type")
    ]
    vocab = len(tokens)
    head = shape.n_embd // shape.n_head
    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("synthetic-1b (random weights, for speed only)")
    writer.add_context_length(shape.n_ctx)
    writer.add_embedding_length(shape.n_embd)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_block_count(shape.n_layer)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if quantize else gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    for key, add in (("bos", writer.add_bos_token_id), ("eos", writer.add_eos_token_id),
                     ("unknown", writer.add_unk_token_id)):  # fmt: skip
        field = source.fields.get(f"tokenizer.ggml.{key}_token_id")
        if field is not None:
            add(int(field.parts[-1][0]))

    def matrix(name: str, rows: int, cols: int) -> None:
        if quantize and cols % 32 == 0:
            # Q8_0 blocks made directly: an f16 scale and 32 int8 weights each (34 bytes), no
            # float matrix to quantize (a minute saved for 1B parameters).
            blocks = cols // 32
            packed = np.empty((rows, blocks, 34), dtype=np.uint8)
            scale = np.full((rows, blocks), 0.02 / 64, dtype=np.float16)
            packed[:, :, :2] = scale.view(np.uint8).reshape(rows, blocks, 2)
            packed[:, :, 2:] = rng.integers(-127, 128, (rows, blocks, 32), dtype=np.int8).view(
                np.uint8
            )
            writer.add_tensor(
                name, packed.reshape(rows, blocks * 34), raw_dtype=gguf.GGMLQuantizationType.Q8_0
            )
        else:
            data = rng.standard_normal((rows, cols), dtype=np.float32) * 0.02
            writer.add_tensor(name, data)

    def norm(name: str) -> None:
        writer.add_tensor(name, np.ones(shape.n_embd, dtype=np.float32))

    kv = shape.n_head_kv * head
    matrix("token_embd.weight", vocab, shape.n_embd)
    norm("output_norm.weight")
    matrix("output.weight", vocab, shape.n_embd)
    for i in range(shape.n_layer):
        p = f"blk.{i}."
        matrix(p + "attn_q.weight", shape.n_embd, shape.n_embd)
        matrix(p + "attn_k.weight", kv, shape.n_embd)
        matrix(p + "attn_v.weight", kv, shape.n_embd)
        matrix(p + "attn_output.weight", shape.n_embd, shape.n_embd)
        norm(p + "attn_norm.weight")
        matrix(p + "ffn_gate.weight", shape.n_ff, shape.n_embd)
        matrix(p + "ffn_up.weight", shape.n_ff, shape.n_embd)
        matrix(p + "ffn_down.weight", shape.n_embd, shape.n_ff)
        norm(p + "ffn_norm.weight")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _items(reader, name: str) -> list[int]:
    return list(reader.fields[f"tokenizer.ggml.{name}"].data)
