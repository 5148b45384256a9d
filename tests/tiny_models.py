"""Tiny randomly initialised causal LMs for the measurement tests (needs torch, transformers)."""


def tiny_llama(tok, hidden: int, seed: int):
    """A one-layer Llama over ``tok``'s vocabulary, seeded, in eval mode."""
    import torch
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    return transformers.LlamaForCausalLM(cfg).eval()
