// The ways a training run stops short, each saying where and what to do; kept apart from the loop so the CLI can
// recognise them without loading onnxruntime.

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly step: number,
    readonly phase: string,
    readonly epoch: number,
    readonly batch: number,
    readonly sources: readonly string[],
    readonly what: string,
    readonly lastCheckpoint: string | undefined,
  ) {
    super(
      `${what} at step ${step} (phase ${phase}, epoch ${epoch + 1}, micro-batch ${batch + 1}: ${sources.slice(0, 4).join(', ')}${sources.length > 4 ? ', …' : ''}); ` +
        `training stopped before the update. ${lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}` : 'No checkpoint was written yet'} ` +
        '(lower --lr, check those samples, then --resume)',
    );
  }
}

export class ResumeError extends Error {
  override name = 'ResumeError';
}

export class TrainingCancelledError extends Error {
  override name = 'AbortError';
  constructor(
    readonly step: number,
    readonly checkpoint: string,
  ) {
    super(`training cancelled after step ${step}; checkpoint ${checkpoint} holds it (run again with --resume)`);
  }
}
