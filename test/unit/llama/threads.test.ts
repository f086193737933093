import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextThreads } from '../../../engine/llama/threads';

test('on the CPU a context gets one thread per math core, not node-llama-cpp default of at least four', () => {
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 2 }), 2);
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 16 }), 16);
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 0 }), 1);
});

test('threads asked for win; with a GPU node-llama-cpp keeps its choice', () => {
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 2 }, 1), 1);
  assert.equal(contextThreads({ gpu: 'cuda', cpuMathCores: 8 }), undefined);
  assert.equal(contextThreads({ gpu: 'cuda', cpuMathCores: 8 }, 3), 3);
});
