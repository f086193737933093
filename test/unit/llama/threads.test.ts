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

test('contexts that decode at once (the server\'s base and each adapter) share the cores instead of each taking all', () => {
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 2 }, undefined, 2), 1);
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 8 }, undefined, 3), 2);
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 2 }, undefined, 5), 1);
  assert.equal(contextThreads({ gpu: false, cpuMathCores: 2 }, 2, 2), 2);
  assert.equal(contextThreads({ gpu: 'cuda', cpuMathCores: 8 }, undefined, 2), undefined);
});
