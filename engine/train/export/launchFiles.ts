// The launch setup beside train.py: an accelerate config for FSDP, launch.sh (accelerate launch, or torchrun with
// LAUNCHER=torchrun), and requirements.txt. The FSDP settings follow what PEFT's own FSDP examples use for LoRA and
// QLoRA (transformer-layer wrapping, full sharding, sharded state dicts while training; train.py gathers the adapter
// into a full state dict to save it).
import { shellWord } from './python';

export const accelerateConfigFile = 'accelerate_fsdp.yaml';

/** transformers' decoder layer class per model_type, the unit FSDP wraps. */
export const decoderLayers: Record<string, string> = {
  llama: 'LlamaDecoderLayer',
  mistral: 'MistralDecoderLayer',
  granite: 'GraniteDecoderLayer',
  qwen2: 'Qwen2DecoderLayer',
};

export function accelerateConfig(o: { qlora: boolean; decoderLayer?: string }): string {
  return [
    '# accelerate config for FSDP, written by taxonomy-studio export-training. launch.sh overrides num_processes,',
    '# num_machines, machine_rank and the main process address from its environment.',
    'compute_environment: LOCAL_MACHINE',
    'debug: false',
    'distributed_type: FSDP',
    "downcast_bf16: 'no'",
    'fsdp_config:',
    '  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP',
    ...(o.decoderLayer ? [`  fsdp_transformer_layer_cls_to_wrap: ${o.decoderLayer}`] : []),
    '  fsdp_backward_prefetch: BACKWARD_PRE',
    '  fsdp_cpu_ram_efficient_loading: true',
    '  fsdp_forward_prefetch: false',
    // QLoRA's frozen 4-bit base offloads well; LoRA keeps parameters on the GPUs.
    `  fsdp_offload_params: ${o.qlora}`,
    '  fsdp_sharding_strategy: FULL_SHARD',
    '  fsdp_state_dict_type: SHARDED_STATE_DICT',
    '  fsdp_sync_module_states: true',
    '  fsdp_use_orig_params: false',
    'machine_rank: 0',
    'main_training_function: main',
    // With QLoRA the base is stored in bf16 by bitsandbytes; mixed precision stays off as in PEFT's QLoRA example.
    `mixed_precision: ${o.qlora ? "'no'" : 'bf16'}`,
    'num_machines: 1',
    'num_processes: 1',
    'rdzv_backend: static',
    'same_network: true',
    'tpu_env: []',
    'tpu_use_cluster: false',
    'tpu_use_sudo: false',
    'use_cpu: false',
    '',
  ].join('\n');
}

export function launchScript(o: { baseModel: string; phases: readonly string[] }): string {
  return `#!/usr/bin/env bash
# Trains every phase in order, each as its own launch (a fresh process group per phase, as LAB runs them).
#   ./launch.sh                      accelerate launch with FSDP on this machine's GPUs
#   LAUNCHER=torchrun ./launch.sh    torchrun instead (DDP; add --fsdp to shard without accelerate)
# Several machines: run it on each with NNODES, NODE_RANK, MASTER_ADDR (and MASTER_PORT) set.
# Anything after the script's name goes to train.py (e.g. --resume, --model DIR).
set -euo pipefail
cd "$(dirname "$0")"

MODEL="\${MODEL:-${o.baseModel.replace(/[\\"$`]/g, (c) => `\\${c}`)}}"
LAUNCHER="\${LAUNCHER:-accelerate}"
NPROC="\${NPROC:-$(python3 -c 'import torch; print(max(1, torch.cuda.device_count()))')}"
NNODES="\${NNODES:-1}"
NODE_RANK="\${NODE_RANK:-0}"
MASTER_ADDR="\${MASTER_ADDR:-127.0.0.1}"
MASTER_PORT="\${MASTER_PORT:-29500}"

for phase in ${o.phases.map(shellWord).join(' ')}; do
  echo "== phase $phase: $NNODES machine(s) x $NPROC process(es) =="
  if [ "$LAUNCHER" = torchrun ]; then
    torchrun --nnodes "$NNODES" --node_rank "$NODE_RANK" --nproc_per_node "$NPROC" \\
      --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \\
      train.py --model "$MODEL" --phase "$phase" "$@"
  else
    accelerate launch --config_file ${accelerateConfigFile} \\
      --num_machines "$NNODES" --machine_rank "$NODE_RANK" --num_processes "$((NPROC * NNODES))" \\
      --main_process_ip "$MASTER_ADDR" --main_process_port "$MASTER_PORT" \\
      train.py --model "$MODEL" --phase "$phase" "$@"
  fi
done
`;
}

export function requirements(o: { qlora: boolean }): string {
  return [
    '# For train.py: pip install -r requirements.txt (a CUDA build of torch for your cluster first).',
    'torch>=2.4',
    'transformers>=4.51',
    // Pre-tokenized datasets whose assistant_masks the collator applies, kept through packing (TRL 0.21).
    'trl>=0.21',
    'peft>=0.14',
    'accelerate>=1.4',
    'datasets>=3.0',
    'safetensors>=0.4',
    o.qlora ? 'bitsandbytes>=0.45' : '# bitsandbytes>=0.45  (only for QLoRA: export again with --qlora)',
    '# flash-attn  (recommended with --packing, so packed samples do not attend to each other)',
    '',
  ].join('\n');
}
