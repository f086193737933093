// train.py of an export for Hugging Face TRL: SFTTrainer + PEFT LoRA with the settings of our trainer, one phase per
// run (LAB's knowledge then skills, the second starting from the first's adapter), on the token ids and assistant masks
// the export wrote, so the cluster learns exactly the tokens our trainer would. Written against the public API of
// TRL (SFTConfig/SFTTrainer, pre-tokenized datasets with "assistant_masks"), PEFT (LoraConfig, PeftModel) and
// transformers (BitsAndBytesConfig for QLoRA). Only the standard library is imported at the top, so
// `python3 train.py --check-data` runs anywhere.
import type { RunSettings } from '../settings';
import { py } from './python';

export interface ScriptPhase {
  name: string;
  /** Relative to the export folder. */
  file: string;
  epochs: number;
}

export interface TrlScriptInput {
  settings: RunSettings;
  phases: readonly ScriptPhase[];
  /** Relative to the export folder; undefined when nothing is held out. */
  evalFile?: string;
  /** The base model folder the export was made from (the default of --model). */
  baseModel: string;
  /** transformers' decoder layer class, for FSDP wrapping under torchrun. */
  decoderLayer?: string;
  /** Micro-batch rows per device: the trainer's batch tokens over the longest sample. */
  rowsPerDevice: number;
  tool: string;
}

/** LoRA settings as PEFT's LoraConfig takes them. */
export function loraConfigOf(st: RunSettings): { r: number; lora_alpha: number; lora_dropout: number; target_modules: string[]; bias: 'none'; task_type: 'CAUSAL_LM' } {
  return { r: st.rank, lora_alpha: st.alpha, lora_dropout: st.dropout, target_modules: [...st.targets], bias: 'none', task_type: 'CAUSAL_LM' };
}

export function trlScript(o: TrlScriptInput): string {
  const st = o.settings;
  const lora = loraConfigOf(st);
  const phases = o.phases.map((p) => ({ name: p.name, file: p.file, epochs: p.epochs }));
  return `#!/usr/bin/env python3
# Trains the LoRA adapter that \`taxonomy-studio train\` would train, with Hugging Face TRL + PEFT, on one GPU or many
# (accelerate launch with FSDP, or torchrun). Written by ${o.tool} export-training --for trl; settings.json holds every
# setting and where the data and base model came from. launch.sh runs one process group per phase; README.md says more.
#
#   python3 train.py --check-data        checks the data files (standard library only) and exits
#   python3 train.py [--phase NAME]      trains (every phase in turn, or one), skipping finished phases
import argparse
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_MODEL = ${py(o.baseModel)}

# The phases in order: each starts from the adapter of the one before, with a fresh optimizer and schedule.
PHASES = ${py(phases)}
EVAL_FILE = ${py(o.evalFile ?? null)}

# The settings of taxonomy-studio's trainer (settings.json "settings").
QLORA = ${py(st.qlora)}
MAX_SEQ_LEN = ${py(st.maxSeqLen)}
PACKING = ${py(st.packing)}
LEARNING_RATE = ${py(st.lr)}
WARMUP_RATIO = ${py(st.warmupRatio)}
WEIGHT_DECAY = ${py(st.weightDecay)}
MAX_GRAD_NORM = ${py(st.maxGradNorm)}
ACCUMULATE = ${py(st.accumulate)}
ROWS_PER_DEVICE = ${py(o.rowsPerDevice)}
SEED = ${py(st.seed)}
DECODER_LAYER = ${py(o.decoderLayer ?? null)}


def lora_config():
    from peft import LoraConfig

    return LoraConfig(
        r=${py(lora.r)},
        lora_alpha=${py(lora.lora_alpha)},
        lora_dropout=${py(lora.lora_dropout)},
        target_modules=${py(lora.target_modules)},
        bias=${py(lora.bias)},
        task_type=${py(lora.task_type)},
    )


def read_rows(relative):
    path = HERE / relative
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            ids, mask = row.get("input_ids"), row.get("assistant_masks")
            if not isinstance(ids, list) or not isinstance(mask, list) or len(ids) != len(mask):
                sys.exit(f"{path}:{number}: expected input_ids and assistant_masks of the same length (export again)")
            if len(ids) > MAX_SEQ_LEN:
                sys.exit(f"{path}:{number}: {len(ids)} tokens, more than MAX_SEQ_LEN {MAX_SEQ_LEN} (export again)")
            if 1 not in mask:
                sys.exit(f"{path}:{number}: no token to learn (export again)")
            rows.append(row)
    if not rows:
        sys.exit(f"{path}: no samples")
    return rows


def check_data():
    for phase in PHASES:
        rows = read_rows(phase["file"])
        tokens = sum(len(r["input_ids"]) for r in rows)
        trained = sum(sum(r["assistant_masks"]) for r in rows)
        print(f"{phase['name']}: {len(rows)} samples, {tokens} tokens, {trained} trained, {phase['epochs']} epochs")
    if EVAL_FILE:
        print(f"eval: {len(read_rows(EVAL_FILE))} samples")


def check_tokenizer(tokenizer, rows, relative, count=8):
    # The data carries our tokenizer's ids; a different tokenizer under --model would train on the wrong tokens.
    for row in rows[:count]:
        ids = tokenizer(row["text"], add_special_tokens=False)["input_ids"]
        if ids[: len(row["input_ids"])] != row["input_ids"]:
            sys.exit(
                f"{relative}: {row['source']}: the tokenizer of the model given splits this sample differently from the "
                "one the data was exported with; use the same model folder (settings.json baseModel), or pass "
                "--skip-token-check if you know why"
            )


def to_dataset(rows):
    from datasets import Dataset

    # Pre-tokenized: TRL skips its own tokenization, and its collator sets the labels of every token whose
    # assistant_masks is 0 to -100, so only the assistant turns (the whole sample for "unmask" lines) are learned.
    return Dataset.from_dict(
        {"input_ids": [r["input_ids"] for r in rows], "assistant_masks": [r["assistant_masks"] for r in rows]}
    )


def load_model(model_path, adapter_dir, sharded):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    dtype_key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    kwargs = {dtype_key: torch.bfloat16}
    if QLORA:
        from transformers import BitsAndBytesConfig

        # 4-bit NF4 base (QLoRA); stored as bf16 so FSDP can shard it; adapters train in higher precision.
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
            bnb_4bit_quant_storage=torch.bfloat16,
        )
        if not sharded and torch.cuda.is_available():
            # Data parallel without FSDP: each process quantizes its own copy onto its own GPU.
            kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    if PACKING:
        try:
            import flash_attn  # noqa: F401

            kwargs["attn_implementation"] = "flash_attention_2"
        except ImportError:
            print("warning: packing without flash-attn: packed samples may attend to each other", file=sys.stderr)
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if adapter_dir is None:
        return model, lora_config()
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True), None


def train_phase(index, phase, args, out):
    import transformers
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    run_dir = out / "runs" / f"{index + 1}-{phase['name']}"
    adapter_dir = run_dir / "adapter"
    if (adapter_dir / "adapter_config.json").exists():
        print(f"{phase['name']}: done already ({adapter_dir})")
        return adapter_dir
    previous = None
    if index > 0:
        before = PHASES[index - 1]
        previous = out / "runs" / f"{index}-{before['name']}" / "adapter"
        if not (previous / "adapter_config.json").exists():
            sys.exit(f"phase {phase['name']} continues {before['name']}'s adapter, which is not trained yet: run --phase {before['name']} first")

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    rows = read_rows(phase["file"])
    eval_rows = read_rows(EVAL_FILE) if EVAL_FILE else None
    if not args.skip_token_check:
        check_tokenizer(tokenizer, rows, phase["file"])

    world = int(os.environ.get("WORLD_SIZE", "1"))
    # Our trainer takes ACCUMULATE micro-batches per step on one device; across devices the same share of each step
    # comes from more processes, so each accumulates fewer.
    accumulate = max(1, round(ACCUMULATE / world))
    warmup = {"warmup_steps": WARMUP_RATIO} if int(transformers.__version__.split(".")[0]) >= 5 else {"warmup_ratio": WARMUP_RATIO}
    fsdp = {}
    if args.fsdp:
        fsdp = {
            "fsdp": "full_shard auto_wrap",
            "fsdp_config": {"transformer_layer_cls_to_wrap": [DECODER_LAYER]} if DECODER_LAYER else {},
        }
    config = SFTConfig(
        output_dir=str(run_dir),
        num_train_epochs=phase["epochs"],
        per_device_train_batch_size=ROWS_PER_DEVICE,
        per_device_eval_batch_size=ROWS_PER_DEVICE,
        gradient_accumulation_steps=accumulate,
        learning_rate=LEARNING_RATE,
        lr_scheduler_type="cosine",
        weight_decay=WEIGHT_DECAY,
        max_grad_norm=MAX_GRAD_NORM,
        optim="adamw_torch",
        adam_beta1=0.9,
        adam_beta2=0.999,
        adam_epsilon=1e-8,
        seed=SEED,
        data_seed=SEED,
        max_length=MAX_SEQ_LEN,
        packing=PACKING,
        packing_strategy="bfd",
        completion_only_loss=False,
        assistant_only_loss=False,  # the masks come with the data; TRL's option needs {% generation %} in the template
        gradient_checkpointing=True,
        bf16=args.bf16,
        logging_steps=1,
        eval_strategy="epoch" if eval_rows else "no",
        save_strategy="epoch",
        report_to="none",
        **warmup,
        **fsdp,
    )
    sharded = args.fsdp or os.environ.get("ACCELERATE_USE_FSDP", "").lower() in ("1", "true")
    model, peft_config = load_model(args.model, previous, sharded)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=to_dataset(rows),
        eval_dataset=to_dataset(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    plugin = getattr(trainer.accelerator.state, "fsdp_plugin", None)
    if plugin is not None:
        from peft.utils.other import fsdp_auto_wrap_policy

        plugin.auto_wrap_policy = fsdp_auto_wrap_policy(trainer.model)
    checkpoint = get_last_checkpoint(str(run_dir)) if args.resume and run_dir.exists() else None
    trainer.train(resume_from_checkpoint=checkpoint)
    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(adapter_dir))
    return adapter_dir


def finish(adapter_dir, out):
    # OUT/adapter: the last phase's adapter with the export's provenance, which export-adapter embeds in the GGUF.
    final = out / "adapter"
    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(adapter_dir, final)
    settings = json.loads((HERE / "settings.json").read_text(encoding="utf-8"))
    provenance = settings.get("provenance")
    if provenance:
        (final / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\\n", encoding="utf-8")
    print(f"adapter: {final}")


def main():
    names = [p["name"] for p in PHASES]
    parser = argparse.ArgumentParser(description="Train the exported LoRA adapter with TRL + PEFT.")
    parser.add_argument("--model", default=os.environ.get("MODEL", BASE_MODEL), help="base model folder or hub id")
    parser.add_argument("--output-dir", default=str(HERE), help="where runs/ and adapter/ go (default: this folder)")
    parser.add_argument("--phase", choices=names, help="train only this phase (launch.sh runs each as its own launch)")
    parser.add_argument("--resume", action="store_true", help="continue a phase from its newest checkpoint")
    parser.add_argument("--fsdp", action="store_true", help="shard with FSDP without an accelerate config (torchrun)")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", help="train in fp32 (GPUs without bf16)")
    parser.add_argument("--skip-token-check", action="store_true", help="do not compare the tokenizer with the data's ids")
    parser.add_argument("--check-data", action="store_true", help="check the data files and exit")
    args = parser.parse_args()
    if args.check_data:
        check_data()
        return
    out = Path(args.output_dir).resolve()
    selected = [i for i, p in enumerate(PHASES) if args.phase in (None, p["name"])]
    adapter_dir = None
    for i in selected:
        adapter_dir = train_phase(i, PHASES[i], args, out)
    is_main = int(os.environ.get("RANK", "0")) == 0
    if adapter_dir is not None and selected[-1] == len(PHASES) - 1 and is_main:
        finish(adapter_dir, out)


if __name__ == "__main__":
    main()
`;
}
